import { eq, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { users, type UserRow } from '../db/schema.js'
import { DatabaseUnavailable } from '../errors.js'

export interface NewUser {
  email: string
  name: string | null
  passwordHash: string
  roles?: string[]
}

export interface UsersRepository {
  /** Inserts a user; null when the email (case-insensitively) is taken. */
  create(input: NewUser): Promise<UserRow | null>
  findByEmail(email: string): Promise<UserRow | null>
  findById(id: string): Promise<UserRow | null>
  update(id: string, changes: Partial<Pick<UserRow, 'name' | 'roles' | 'disabledAt' | 'passwordHash' | 'passwordChangedAt' | 'email'>>): Promise<UserRow | null>
  delete(id: string): Promise<boolean>
}

export const normalizeEmail = (email: string) => email.trim()

// SQLSTATE classes that mean "Postgres is unreachable or overloaded", not "bad query".
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58']

function isUnavailable (err: unknown): boolean {
  for (let e = err as { code?: unknown, cause?: unknown, message?: unknown } | undefined; e; e = e.cause as typeof e) {
    const code = typeof e.code === 'string' ? e.code : ''
    if (/^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_CLASSES.includes(code.slice(0, 2))
    if (code.startsWith('E') || /timeout|terminated|Connection/i.test(String(e.message))) return true
  }
  return false
}

/** A failure to reach Postgres is a 503 for the client; anything else is a bug and stays a 500. */
async function guard<T> (fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw isUnavailable(err) ? new DatabaseUnavailable({ cause: err }) : err
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function createUsersRepository (db: Db, { preparedStatements = true }: { preparedStatements?: boolean } = {}): UsersRepository {
  // The two reads every login makes are built once here, not by Drizzle on every call. Named, they
  // are also server-side prepared statements: each PostgreSQL connection parses and plans them
  // once. Unnamed (DATABASE_PREPARED_STATEMENTS=false, for poolers that hand a client's statements
  // to another server connection), PostgreSQL parses them on every call.
  const name = (statement: string) => preparedStatements ? statement : ''
  const byEmail = db.select().from(users)
    .where(sql`lower(${users.email}) = lower(${sql.placeholder('email')})`).limit(1).prepare(name('users_by_email'))
  const byId = db.select().from(users).where(eq(users.id, sql.placeholder('id'))).limit(1).prepare(name('users_by_id'))

  return {
    async create (input) {
      const rows = await guard(() => db.insert(users).values({
        email: normalizeEmail(input.email),
        name: input.name,
        passwordHash: input.passwordHash,
        ...(input.roles ? { roles: input.roles } : {})
      }).onConflictDoNothing().returning())
      return rows[0] ?? null
    },

    async findByEmail (email) {
      const rows = await guard(() => byEmail.execute({ email: normalizeEmail(email) }))
      return rows[0] ?? null
    },

    async findById (id) {
      if (!UUID.test(id)) return null
      const rows = await guard(() => byId.execute({ id }))
      return rows[0] ?? null
    },

    async update (id, changes) {
      if (!UUID.test(id)) return null
      const rows = await guard(() => db.update(users).set({ ...changes, updatedAt: new Date() }).where(eq(users.id, id)).returning())
      return rows[0] ?? null
    },

    async delete (id) {
      if (!UUID.test(id)) return false
      const rows = await guard(() => db.delete(users).where(eq(users.id, id)).returning({ id: users.id }))
      return rows.length > 0
    }
  }
}
