// `npm run db:migrate` and the container entrypoint: apply migrations, then exit.
import { loadConfig, ConfigError } from '../config.js'
import { createPostgres } from './client.js'

try {
  const config = loadConfig()
  if (config.DATABASE_URL === undefined) throw new ConfigError('invalid configuration: DATABASE_URL is required for db:migrate (embedded mode migrates itself at start)')
  const database = createPostgres(config)
  await database.migrate()
  await database.close()
  console.log('migrations applied')
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exitCode = 1
}
