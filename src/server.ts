import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'

let config
try {
  config = loadConfig()
} catch (err) {
  // A bad value stops the process with a message naming the variable.
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(1)
}

const app = await buildApp(config)

// SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close Redis and Postgres, exit 0.
closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after error')
  else app.log.info({ signal }, 'closing')
  await app.close()
})

await app.listen({ host: config.HOST, port: config.PORT })
