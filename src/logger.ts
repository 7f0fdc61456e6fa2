import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'

/**
 * pino options. Tokens, passwords, cookies and Authorization headers never reach the logs:
 * request bodies are not logged at all, and these paths are censored wherever they appear.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.token',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash'
]

/** `stream` (tests) sends the log lines somewhere other than stdout. */
export function loggerOptions (config: Pick<Config, 'LOG_LEVEL'>, stream?: { write(line: string): void }): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(stream !== undefined ? { stream } : {})
  }
}

// The secret half of a session token (`<id>.<secret>`, sessions/token.ts).
const TOKEN_SECRET = /\.[A-Za-z0-9_-]{43}/g

/**
 * One JSON line per request instead of Fastify's two (incoming + completed), written when the
 * response is done: request id (`reqId`, added by Fastify), method, route pattern, path, status,
 * duration in ms. The query string is left out of `url`: it can carry tokens and redirect
 * targets; a token secret in the path is masked. No headers and no body, so nothing secret can
 * reach this line. Routes declared with `logLevel: 'warn'` (health probes, metrics scrapes) stay quiet.
 */
export class RequestLogController extends LogController {
  override incomingRequest () {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    // Below info (LOG_LEVEL=warn) the line would be dropped anyway: skip building it on every request.
    if (!error && !(reply.log as unknown as { isLevelEnabled(level: string): boolean }).isLevelEnabled('info')) return
    const q = request.url.indexOf('?')
    const path = q === -1 ? request.url : request.url.slice(0, q)
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? null,
      // API paths have no dot (only /openapi.json and /docs files do): one may be a pasted token.
      url: path.includes('.') ? path.replace(TOKEN_SECRET, '.[redacted]') : path,
      statusCode: reply.statusCode,
      responseTime: reply.elapsedTime
    }
    if (error) reply.log.error({ ...line, err: error }, 'request errored')
    else reply.log.info(line, 'request completed')
  }
}
