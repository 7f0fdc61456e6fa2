import { sql } from 'drizzle-orm'
import { pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core'

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  // Stored trimmed, as the user typed it; uniqueness is case-insensitive (index below).
  email: text('email').notNull(),
  name: text('name'),
  roles: text('roles').array().notNull().default(sql`'{user}'::text[]`),
  // argon2id PHC string; never leaves the repository.
  passwordHash: text('password_hash').notNull(),
  disabledAt: timestamp('disabled_at', { withTimezone: true, mode: 'date' }),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  passwordChangedAt: timestamp('password_changed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
}, (t) => [
  uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`)
])

export type UserRow = typeof users.$inferSelect
