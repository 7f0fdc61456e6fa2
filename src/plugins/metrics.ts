import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Registry } from 'prom-client'
import { Type } from 'typebox'
import { LatencyHistogram } from './latency-histogram.js'

/*
 * prom-client directly rather than fastify-metrics: we need two domain counters fed from our own
 * hook anyway, and doing the latency histogram in that same onResponse hook (from Fastify's
 * reply.elapsedTime) keeps the hot path at one histogram observe plus at most one increment,
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

  const duration = new LatencyHistogram(
    'sessiond_http_request_duration_seconds',
    'HTTP request latency by route pattern, method and status code.',
    // Validate sits well under 5 ms; logins spend ~15-50 ms in argon2.
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registry
  )
  // Outcomes are counted in plain numbers and handed to prom-client when scraped (collect): a
  // Counter's inc() hashes its labels on every call, even through a labels() child.
  const validateCounts = { valid: 0, invalid: 0, expired: 0, store_error: 0 }
  const loginCounts = { ok: 0, failed: 0, throttled: 0 }
  const counter = (name: string, help: string, counts: Record<string, number>) => new Counter({
    name,
    help,
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect () {
      this.reset()
      // Every outcome shows, 0 included, from the first scrape.
      for (const [outcome, n] of Object.entries(counts)) this.inc({ outcome }, n)
    }
  })
  counter('sessiond_validate_total', 'Session validations (validate, whoami, forward-auth) by outcome.', validateCounts)
  counter('sessiond_logins_total', 'Login attempts (POST /v1/sessions) by outcome.', loginCounts)

  // A callback hook, not async: no promise per request.
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const route = request.routeOptions.url ?? UNMATCHED
    const status = reply.statusCode
    duration.observe(request.method, route, status, reply.elapsedTime / 1000)

    if (VALIDATE_ROUTES.has(route) && request.method !== 'DELETE') {
      const outcome = request.sessionOutcome
      // No outcome and a 503: the store failed before it could answer.
      if (outcome !== null) validateCounts[outcome]++
      else if (status === 503) validateCounts.store_error++
    } else if (route === LOGIN_ROUTE && request.method === 'POST') {
      if (status === 201) loginCounts.ok++
      else if (status === 401) loginCounts.failed++
      else if (status === 429) loginCounts.throttled++
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
