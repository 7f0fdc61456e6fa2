import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'
import { Type } from 'typebox'

/*
 * prom-client directly rather than fastify-metrics: we need two domain counters fed from our own
 * hook anyway, and doing the latency histogram in that same onResponse hook (from Fastify's
 * reply.elapsedTime) keeps the hot path at one histogram observe plus at most one counter inc,
 * with no per-request timer closure. A registry per app keeps test instances apart.
 */

// Routes that resolve a session on every call: their outcome feeds sessiond_validate_total.
const VALIDATE_ROUTES = new Set(['/v1/sessions/validate', '/v1/auth/forward', '/v1/auth/request', '/v1/sessions/current'])
const LOGIN_ROUTE = '/v1/sessions'
// Unknown URLs are one label value, so scanners cannot blow up the series count.
const UNMATCHED = 'unmatched'

// Process metrics (CPU, memory, event-loop lag, GC) belong to the process, not to an app
// instance: collected once, however many apps a process builds (tests build hundreds), since
// each collection installs observers that are never removed.
let processRegistry: Registry | undefined
function processMetrics (): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

async function metricsPlugin (app: FastifyInstance) {
  const registry = new Registry()
  const shared = processMetrics()

  const duration = new Histogram({
    name: 'sessiond_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern, method and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    // Validate sits well under 5 ms; logins spend ~15-50 ms in argon2.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry]
  })
  const validate = new Counter({
    name: 'sessiond_validate_total',
    help: 'Session validations (validate, whoami, forward-auth) by outcome.',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  const logins = new Counter({
    name: 'sessiond_logins_total',
    help: 'Login attempts (POST /v1/sessions) by outcome.',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  // Children made once, so counting is a plain inc(); inc(0) makes every series show from the start.
  const validateBy = {
    valid: validate.labels('valid'),
    invalid: validate.labels('invalid'),
    expired: validate.labels('expired'),
    store_error: validate.labels('store_error')
  }
  for (const outcome of Object.keys(validateBy)) validate.inc({ outcome }, 0)
  for (const outcome of ['ok', 'failed', 'throttled']) logins.inc({ outcome }, 0)
  const loginOk = logins.labels('ok')
  const loginFailed = logins.labels('failed')
  const loginThrottled = logins.labels('throttled')

  // A callback hook, not async: no promise per request.
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const route = request.routeOptions.url ?? UNMATCHED
    const status = reply.statusCode
    duration.observe({ method: request.method, route, status_code: status }, reply.elapsedTime / 1000)

    if (VALIDATE_ROUTES.has(route) && request.method !== 'DELETE') {
      const outcome = request.sessionOutcome
      // No outcome and a 503: the store failed before it could answer.
      if (outcome !== null) validateBy[outcome].inc()
      else if (status === 503) validateBy.store_error.inc()
    } else if (route === LOGIN_ROUTE && request.method === 'POST') {
      if (status === 201) loginOk.inc()
      else if (status === 401) loginFailed.inc()
      else if (status === 429) loginThrottled.inc()
    }
    done()
  })

  app.get('/metrics', {
    schema: {
      tags: ['ops'],
      summary: 'Prometheus metrics (text exposition format)',
      description: 'Request latency histograms per route, validate outcomes, login outcomes and Node.js process metrics. Keep this route off the public load balancer.',
      operationId: 'metrics',
      security: [],
      response: {
        200: {
          description: 'Prometheus text format 0.0.4',
          content: { 'text/plain': { schema: Type.String() } }
        }
      }
    },
    logLevel: 'warn'
  }, async (_request, reply) => {
    const body = await shared.metrics() + await registry.metrics()
    return reply.type(registry.contentType).send(body)
  })

  app.addHook('onClose', async () => { registry.clear() })
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['sessions'] })
