import type { FastifyServerOptions } from 'fastify'
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

export function loggerOptions (config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' }
  }
}
