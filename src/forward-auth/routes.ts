import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import type { Config } from '../config.js'
import { Forbidden, SessionInvalid } from '../errors.js'
import { errorResponse, SESSION_SECURITY } from '../schemas.js'
import type { SessionUser } from '../sessions/store.js'
import { IDENTITY_HEADERS_SCHEMA, identityHeaders } from './headers.js'
import { loginLocation, originalRequest, trustedPeer, wantsHtml } from './original-request.js'

const RoleSchema = Type.String({ minLength: 1, maxLength: 100 })
export const ForwardAuthQuerySchema = Type.Object({
  role: Type.Optional(Type.Union([RoleSchema, Type.Array(RoleSchema, { minItems: 1, maxItems: 20 })], {
    description: 'Required role; repeat it to allow any of several (`?role=admin&role=ops`). 403 when the user has none of them.'
  }))
})

type ForwardAuthQuery = Static<typeof ForwardAuthQuerySchema>

const empty = (description: string, headers?: Record<string, unknown>) => ({ type: 'null', description, ...(headers ? { headers } : {}) })
const LOCATION = { Location: { type: 'string', description: 'LOGIN_URL?rd=<original URL> (rd only when a trusted proxy named the original URL).' } }

/** Any of the required roles (none required: any signed-in user). */
function allowed (user: SessionUser, role: string | string[] | undefined): boolean {
  if (role === undefined) return true
  const wanted = Array.isArray(role) ? role : [role]
  return wanted.some((r) => user.roles.includes(r))
}

/**
 * Forward-auth for gateways (SPEC §6). Both endpoints resolve the cookie or bearer with
 * app.auth.current(), which slides the session as validate does, in one store round trip. A store
 * outage throws StoreUnavailable, answered 503 + Retry-After by the error handler: never 200 or 401,
 * and no cookie is ever set or cleared here.
 */
const forwardAuthRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const isTrusted = trustedPeer(config.TRUST_PROXY)
  const profile = config.FORWARD_AUTH_HEADERS

  async function check (request: FastifyRequest, reply: FastifyReply, role: string | string[] | undefined) {
    // An auth answer is about one request and one session: never to be cached by anything between.
    reply.header('cache-control', 'no-store')
    const current = await app.auth.current(request)
    if (current === null) return 'unauthenticated' as const
    if (!allowed(current.session.user, role)) return 'forbidden' as const
    reply.headers(identityHeaders(current.session.user, current.session.id, profile))
    return 'allowed' as const
  }

  async function forward (request: FastifyRequest<{ Querystring: ForwardAuthQuery }>, reply: FastifyReply) {
    const outcome = await check(request, reply, request.query.role)
    if (outcome === 'allowed') return reply.code(200).send()
    if (outcome === 'forbidden') throw new Forbidden()
    if (config.LOGIN_URL !== undefined && wantsHtml(request)) {
      const original = originalRequest(request, isTrusted(request))
      // 303 makes the browser GET the login page after a POST; 302 keeps GET/HEAD as they are.
      const status = original.method === 'GET' || original.method === 'HEAD' ? 302 : 303
      return reply.code(status).header('location', loginLocation(config.LOGIN_URL, original)).send()
    }
    throw new SessionInvalid()
  }

  app.get('/auth/forward', {
    schema: {
      tags: ['forward-auth'],
      summary: 'Forward-auth for Traefik ForwardAuth, Caddy forward_auth and similar gateways',
      description: 'Empty 200 with identity headers when the cookie or bearer names a live session (slides it). ' +
        'Unauthenticated: 401 JSON, or, when LOGIN_URL is set and the original request accepts text/html, a redirect to ' +
        'LOGIN_URL?rd=<original URL> (302 for GET/HEAD, 303 otherwise). The original request is read from ' +
        'X-Forwarded-Method/-Proto/-Host/-Uri or X-Original-Method/-URL, only from TRUST_PROXY addresses.',
      operationId: 'forwardAuth',
      querystring: ForwardAuthQuerySchema,
      security: SESSION_SECURITY,
      response: {
        200: empty('Allowed; identity headers for the upstream (X-Auth-* or Remote-*, per FORWARD_AUTH_HEADERS).', IDENTITY_HEADERS_SCHEMA),
        302: empty('Not signed in, browser GET/HEAD navigation, LOGIN_URL set: go log in.', LOCATION),
        303: empty('Not signed in, browser navigation with another method, LOGIN_URL set: go log in.', LOCATION),
        400: errorResponse('VALIDATION_FAILED (bad role parameter)'),
        401: errorResponse('SESSION_INVALID'),
        403: errorResponse('FORBIDDEN: the user has none of the required roles'),
        503: errorResponse('STORE_UNAVAILABLE')
      }
    }
  }, forward)

  // Envoy's ext_authz (HTTP service) sends the auth request with the original method (and no body),
  // so /v1/auth/forward answers every method the same way. Kept out of the OpenAPI document, where
  // one operation per method would only repeat GET. Any body is read and ignored.
  await app.register(async (envoy) => {
    envoy.removeAllContentTypeParsers()
    envoy.addContentTypeParser('*', (_request, payload, done) => {
      payload.resume()
      payload.once('end', () => done(null))
    })
    envoy.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: '/auth/forward',
      schema: { hide: true, querystring: ForwardAuthQuerySchema },
      handler: forward
    })
  })

  app.get('/auth/request', {
    schema: {
      tags: ['forward-auth'],
      summary: 'Forward-auth for nginx auth_request (statuses only: 2xx, 401, 403)',
      description: 'Empty 200 with identity headers when the cookie or bearer names a live session (slides it). ' +
        'Unauthenticated: empty 401, with Location: LOGIN_URL?rd=<original URL> when LOGIN_URL is set (for error_page 401). ' +
        'Missing role: empty 403. The original URL is read from X-Original-URL (or X-Forwarded-*), only from TRUST_PROXY addresses.',
      operationId: 'forwardAuthRequest',
      querystring: ForwardAuthQuerySchema,
      security: SESSION_SECURITY,
      response: {
        200: empty('Allowed; identity headers for the upstream (X-Auth-* or Remote-*, per FORWARD_AUTH_HEADERS).', IDENTITY_HEADERS_SCHEMA),
        400: errorResponse('VALIDATION_FAILED (bad role parameter)'),
        401: empty('Not signed in. No body (nginx discards it).', LOCATION),
        403: empty('The user has none of the required roles. No body.'),
        503: errorResponse('STORE_UNAVAILABLE (nginx answers its client 500: it fails closed)')
      }
    }
  }, async (request, reply) => {
    // nginx passes only the status (and headers through auth_request_set): no bodies here.
    const outcome = await check(request, reply, request.query.role)
    if (outcome === 'allowed') return reply.code(200).send()
    if (outcome === 'forbidden') return reply.code(403).send()
    if (config.LOGIN_URL !== undefined) {
      reply.header('location', loginLocation(config.LOGIN_URL, originalRequest(request, isTrusted(request))))
    }
    return reply.code(401).send()
  })
}

export default forwardAuthRoutes
