import cookie from '@fastify/cookie'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyServerOptions } from 'fastify'
import { readFileSync } from 'node:fs'
import type { Clock } from './clock.js'
import type { Config } from './config.js'
import forwardAuthRoutes from './forward-auth/routes.js'
import { loggerOptions, RequestLogController, requestLogger } from './logger.js'
import database from './plugins/database.js'
import errors, { frameworkErrors } from './plugins/errors.js'
import health from './plugins/health.js'
import metrics from './plugins/metrics.js'
import redis from './plugins/redis.js'
import security from './security/plugin.js'
import swagger from './plugins/swagger.js'
import sessions from './sessions/plugin.js'
import sessionsRoutes from './sessions/routes.js'
import users from './users/plugin.js'
import usersRoutes from './users/routes.js'
import csrf from './sessions/csrf.js'
import manageSessionsRoutes from './sessions/manage-routes.js'
import meRoutes from './users/me-routes.js'
import admin from './admin/plugin.js'

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

export interface BuildOptions {
  clock?: Clock
  logger?: FastifyServerOptions['logger']
}

/** Builds the whole service, ready to listen. Tests call it directly with their own config. */
export async function buildApp (config: Config, options: BuildOptions = {}) {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config),
    bodyLimit: config.BODY_LIMIT,
    trustProxy: config.TRUST_PROXY.split(',').map((s) => s.trim()),
    // Wrong types are client errors, not something to coerce quietly.
    ajv: { customOptions: { coerceTypes: false } },
    return503OnClosing: true,
    // Malformed escapes and over-long path parameters are answered by Fastify's router before any
    // hook or error handler: give them the usual shape and a stable code (plugins/errors.ts).
    frameworkErrors,
    logController: new RequestLogController(),
    childLoggerFactory: requestLogger
  }).withTypeProvider<TypeBoxTypeProvider>()

  if (config.embeddedDatabase || config.embeddedSessions) {
    app.log.warn('embedded mode (PGlite and/or in-process sessions): for trying and developing only; set DATABASE_URL and REDIS_URL for production')
  }

  await app.register(errors)
  await app.register(swagger, { version })
  await app.register(cookie)
  await app.register(database, { config, migrate: config.MIGRATE_ON_START })
  if (!config.embeddedSessions) await app.register(redis, { config })
  await app.register(users, { config })
  await app.register(sessions, { config, clock: options.clock })
  await app.register(csrf, { config })
  await app.register(security, { config, clock: options.clock })

  await app.register(metrics)
  await app.register(health)
  await app.register(usersRoutes, { prefix: '/v1', config })
  await app.register(sessionsRoutes, { prefix: '/v1' })
  await app.register(manageSessionsRoutes, { prefix: '/v1' })
  await app.register(meRoutes, { prefix: '/v1' })
  await app.register(admin, { prefix: '/admin/v1', config })
  await app.register(forwardAuthRoutes, { prefix: '/v1', config })
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
