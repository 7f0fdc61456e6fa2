import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import '@fastify/cookie'
import fp from 'fastify-plugin'
import { systemClock, type Clock } from '../clock.js'
import type { Config } from '../config.js'
import { SessionInvalid } from '../errors.js'
import { createMemorySessionStore } from './memory-store.js'
import { createRedisSessionStore } from './redis-store.js'
import type { SessionRecord, SessionStore, SessionUser } from './store.js'
import { toSessionView } from './view.js'

export interface CurrentSession {
  session: SessionRecord
  token: string
  via: 'bearer' | 'cookie'
}

export interface Auth {
  /** The credential of a request: `Authorization: Bearer` wins over the session cookie. */
  credential(request: FastifyRequest): { token: string, via: 'bearer' | 'cookie' } | null
  /** The request's live session, or null. Throws StoreUnavailable when the store is down. */
  current(request: FastifyRequest, options?: { extend?: boolean }): Promise<CurrentSession | null>
  /** Like current(), but throws SessionInvalid (401) when there is none. */
  require(request: FastifyRequest, options?: { extend?: boolean }): Promise<CurrentSession>
  /** Starts a session for a user who just proved who they are; sets the cookie. */
  start(request: FastifyRequest, reply: FastifyReply, user: SessionUser): Promise<ReturnType<typeof toSessionView> & { token: string }>
  clearCookie(reply: FastifyReply): void
}

/** What validating this request's credential found; read by the metrics plugin. null: not validated. */
export type SessionOutcome = 'valid' | 'invalid' | 'expired'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionStore
    auth: Auth
  }
  interface FastifyRequest {
    sessionOutcome: SessionOutcome | null
  }
}

const BEARER = /^Bearer +(\S+) *$/i

async function sessionsPlugin (app: FastifyInstance, { config, clock = systemClock }: { config: Config, clock?: Clock }) {
  const options = {
    idleTtlMs: config.SESSION_IDLE_TTL * 1000,
    absoluteTtlMs: config.SESSION_ABSOLUTE_TTL * 1000,
    extendThrottleMs: config.SESSION_EXTEND_THROTTLE * 1000
  }
  const store = config.embeddedSessions
    ? createMemorySessionStore({ clock, options })
    : createRedisSessionStore({ redis: app.redis, prefix: config.REDIS_KEY_PREFIX, clock, options, timeoutMs: config.REDIS_COMMAND_TIMEOUT_MS })
  app.decorate('sessions', store)
  app.decorateRequest('sessionOutcome', null)
  app.addHook('onClose', async () => { await store.close() })

  const cookieOptions = {
    path: '/',
    httpOnly: true,
    secure: config.COOKIE_SECURE,
    sameSite: config.COOKIE_SAMESITE,
    ...(config.COOKIE_DOMAIN !== undefined ? { domain: config.COOKIE_DOMAIN } : {})
  } as const

  const auth: Auth = {
    credential (request) {
      const header = request.headers.authorization
      if (header !== undefined) {
        const m = BEARER.exec(header)
        if (m) return { token: m[1] as string, via: 'bearer' }
      }
      const cookie = request.cookies[config.cookieName]
      return cookie ? { token: cookie, via: 'cookie' } : null
    },

    async current (request, { extend = true } = {}) {
      const cred = auth.credential(request)
      if (!cred) {
        request.sessionOutcome = 'invalid'
        return null
      }
      const result = await store.validate(cred.token, { extend })
      request.sessionOutcome = result.status
      return result.status === 'valid' ? { session: result.session, ...cred } : null
    },

    async require (request, options) {
      const current = await auth.current(request, options)
      if (!current) throw new SessionInvalid()
      return current
    },

    async start (request, reply, user) {
      // Session fixation: whatever session the request carried is revoked, and a new id and
      // secret are issued on every login and registration.
      const previous = await auth.current(request, { extend: false })
      if (previous) await store.revoke(previous.session.id, previous.session.user.id)
      const { token, session } = await store.create(user, {
        ip: request.ip ?? null,
        userAgent: request.headers['user-agent']?.slice(0, 512) ?? null
      })
      reply.setCookie(config.cookieName, token, { ...cookieOptions, expires: new Date(session.absoluteExpiresAt) })
      return { ...toSessionView(session), token }
    },

    clearCookie (reply) {
      reply.clearCookie(config.cookieName, cookieOptions)
    }
  }
  app.decorate('auth', auth)
}

export default fp(sessionsPlugin, { name: 'sessions' })
