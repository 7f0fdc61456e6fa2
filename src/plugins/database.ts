import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createDatabase, type Database } from '../db/client.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: Database
  }
}

async function databasePlugin (app: FastifyInstance, { config, migrate }: { config: Config, migrate: boolean }) {
  const database = await createDatabase(config, (err) => app.log.warn({ err }, 'postgres pool error'))
  // The embedded database always starts empty or local, so it migrates itself; with a real
  // PostgreSQL `npm run db:migrate` (or the container entrypoint) does, under an advisory lock.
  if (migrate || database.kind === 'pglite') await database.migrate()
  app.decorate('database', database)
  app.addHook('onClose', async () => { await database.close() })
}

export default fp(databasePlugin, { name: 'database' })
