import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'fastify/types/logger.js'
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
    if (!error && !(reply.log as Pino).isLevelEnabled('info')) return
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

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type Pino = FastifyBaseLogger & { isLevelEnabled(level: string): boolean, levels: { values: Record<string, number> } }

/**
 * The per-request logger (`request.log`), made only when something is logged. Fastify gives every
 * request a pino child bound to its reqId; pino serializes those bindings at once, through the
 * redaction wildcards, which costs ~2 µs and several allocations on every validate even though at
 * the default level nothing on that path logs. This stands in for the child and makes it on the
 * first line that passes the level, with the same bindings and options, so log lines are unchanged
 * (test/ops/logs.test.ts).
 */
export class RequestLogger {
  private real: Pino | undefined
  constructor (
    private readonly parent: Pino,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions
  ) {}

  private made (): Pino {
    this.real ??= this.parent.child(this.bindings, this.options) as Pino
    return this.real
  }

  get level (): string { return this.real?.level ?? this.options.level ?? this.parent.level }
  set level (level: string) { this.made().level = level }

  isLevelEnabled (level: string): boolean {
    if (this.real !== undefined) return this.real.isLevelEnabled(level)
    const values = this.parent.levels.values
    const threshold = values[this.level]
    return threshold !== undefined && (values[level] ?? -Infinity) >= threshold
  }

  private write (level: Level, args: unknown[]): void {
    if (this.isLevelEnabled(level)) (this.made()[level] as (...a: unknown[]) => void)(...args)
  }

  fatal (...args: unknown[]): void { this.write('fatal', args) }
  error (...args: unknown[]): void { this.write('error', args) }
  warn (...args: unknown[]): void { this.write('warn', args) }
  info (...args: unknown[]): void { this.write('info', args) }
  debug (...args: unknown[]): void { this.write('debug', args) }
  trace (...args: unknown[]): void { this.write('trace', args) }
  silent (): void {}

  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.made().child(bindings, options)
  }
}

/** Fastify's childLoggerFactory: see RequestLogger. */
export function requestLogger (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  // Not pino (logger: false gives Fastify's no-op logger, whose child is itself): nothing to save.
  if (typeof (logger as Partial<Pino>).isLevelEnabled !== 'function') return logger.child(bindings, options)
  return new RequestLogger(logger as Pino, bindings, options) as unknown as FastifyBaseLogger
}
