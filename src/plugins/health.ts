import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

const CHECK_TIMEOUT_MS = 1000

async function check (fn: () => Promise<void>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS)
  })
  try {
    await Promise.race([fn(), timeout])
    return 'up'
  } catch {
    return 'down'
  } finally {
    clearTimeout(timer)
  }
}

const ChecksSchema = Type.Object({
  redis: Type.Union([Type.Literal('up'), Type.Literal('down')], { description: 'Session store (Redis, or the in-process store in embedded mode).' }),
  postgres: Type.Union([Type.Literal('up'), Type.Literal('down')], { description: 'User database (PostgreSQL, or PGlite in embedded mode).' })
})

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health/live', {
    schema: {
      tags: ['ops'],
      summary: 'Liveness: the process is up',
      operationId: 'healthLive',
      security: [],
      response: { 200: Type.Object({ status: Type.Literal('ok') }) }
    },
    logLevel: 'warn'
  }, async () => ({ status: 'ok' as const }))

  app.get('/health/ready', {
    schema: {
      tags: ['ops'],
      summary: 'Readiness: Redis and Postgres answer within 1 s; 503 names what is down',
      operationId: 'healthReady',
      security: [],
      response: {
        200: Type.Object({ status: Type.Literal('ok'), checks: ChecksSchema }),
        503: Type.Object({
          statusCode: Type.Integer(),
          code: Type.Literal('NOT_READY'),
          error: Type.String(),
          message: Type.String(),
          checks: ChecksSchema
        })
      }
    },
    logLevel: 'warn'
  }, async (_request, reply) => {
    const [redis, postgres] = await Promise.all([check(() => app.sessions.ping()), check(() => app.database.ping())])
    const checks = { redis, postgres }
    if (redis === 'up' && postgres === 'up') return { status: 'ok' as const, checks }
    const down = Object.entries(checks).filter(([, v]) => v === 'down').map(([k]) => k)
    return reply.code(503).send({
      statusCode: 503,
      code: 'NOT_READY' as const,
      error: 'Service Unavailable',
      message: `not ready: ${down.join(' and ')} down`,
      checks
    })
  })
}

export default healthRoutes
