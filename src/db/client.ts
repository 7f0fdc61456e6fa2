import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import pg from 'pg'
import type { Config } from '../config.js'
import * as schema from './schema.js'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export interface Database {
  db: Db
  kind: 'postgres' | 'pglite'
  /** Applies pending migrations; safe when several replicas start at once. */
  migrate(): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
}

const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url))
// Any constant shared by every replica; pg_advisory_lock serialises migrations across them.
const MIGRATION_LOCK_KEY = 7_342_001

export function createPostgres (config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_SIZE' | 'DATABASE_TIMEOUT_MS'>, onError?: (err: Error) => void): Database {
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_SIZE,
    // Bound every wait so nothing queues forever when Postgres hangs (SPEC §8).
    connectionTimeoutMillis: config.DATABASE_TIMEOUT_MS,
    query_timeout: config.DATABASE_TIMEOUT_MS,
    statement_timeout: config.DATABASE_TIMEOUT_MS,
    idleTimeoutMillis: 30_000
  })
  // An idle client losing its connection emits here; without a listener the process would crash.
  pool.on('error', (err) => onError?.(err))
  const db = drizzlePg({ client: pool, schema }) as unknown as Db

  return {
    db,
    kind: 'postgres',
    async migrate () {
      const client = await pool.connect()
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
        try {
          await migratePg(drizzlePg({ client, schema }), { migrationsFolder })
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
        }
      } finally {
        client.release()
      }
    },
    async ping () {
      await db.execute(sql`select 1`)
    },
    async close () {
      await pool.end()
    }
  }
}

/** Embedded default: real Postgres compiled to WASM, same schema and migrations. */
export async function createPglite (config: Pick<Config, 'PGLITE_DATA_DIR'>): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  const { migrate } = await import('drizzle-orm/pglite/migrator')
  const client = new PGlite(config.PGLITE_DATA_DIR)
  const pdb = drizzle({ client, schema })
  const db = pdb as unknown as Db
  return {
    db,
    kind: 'pglite',
    // One process owns a PGlite database, so there is nobody to race.
    async migrate () { await migrate(pdb, { migrationsFolder }) },
    async ping () { await db.execute(sql`select 1`) },
    async close () { await client.close() }
  }
}

export async function createDatabase (config: Config, onError?: (err: Error) => void): Promise<Database> {
  return config.DATABASE_URL === undefined ? await createPglite(config) : createPostgres(config, onError)
}
