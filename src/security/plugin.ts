import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { systemClock, type Clock } from '../clock.js'
import type { Config } from '../config.js'
import { createLoginThrottle, memoryBackend, redisBackend, type LoginThrottle, type ThrottleOptions } from './login-throttle.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Brute-force protection for logins, password checks and registration (SPEC §7). */
    loginThrottle: LoginThrottle
  }
}

export function throttleOptions (config: Config): ThrottleOptions {
  return {
    enabled: config.LOGIN_THROTTLE,
    accountFreeFailures: config.LOGIN_ACCOUNT_FREE_FAILURES,
    ipFreeFailures: config.LOGIN_IP_FREE_FAILURES,
    baseBackoffMs: config.LOGIN_BACKOFF_BASE_SECONDS * 1000,
    maxBackoffMs: config.LOGIN_BACKOFF_MAX_SECONDS * 1000,
    windowMs: config.LOGIN_FAILURE_WINDOW_SECONDS * 1000,
    registrationsPerIp: config.REGISTRATION_PER_IP,
    registrationWindowMs: config.REGISTRATION_WINDOW_SECONDS * 1000
  }
}

async function securityPlugin (app: FastifyInstance, { config, clock = systemClock }: { config: Config, clock?: Clock }) {
  const options = throttleOptions(config)
  // Counters live where sessions live: Redis (shared by every replica), or memory in embedded mode.
  const backend = config.embeddedSessions ? memoryBackend(clock, options) : redisBackend(app.redis, options, config.REDIS_COMMAND_TIMEOUT_MS)
  app.decorate('loginThrottle', createLoginThrottle({ backend, clock, options, prefix: config.REDIS_KEY_PREFIX }))
}

export default fp(securityPlugin, { name: 'security' })
