import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { InvalidCredentials, SessionInvalid } from '../errors.js'
import { errorResponse, ref, SESSION_SECURITY, SessionViewSchema, SessionWithTokenSchema } from '../schemas.js'
import { LoginBodySchema } from '../users/schemas.js'
import { ValidateBodySchema } from './schemas.js'
import { sessionViewJson } from './view.js'

// The answers on the validate path are serialized by hand (sessionViewJson); Fastify sends a
// string with a JSON content type as it is.
const sendJson = (reply: FastifyReply, json: string) => reply.type('application/json; charset=utf-8').send(json)

const sessionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/sessions', {
    schema: {
      tags: ['sessions'],
      summary: 'Log in with email and password',
      operationId: 'login',
      body: LoginBodySchema,
      security: [],
      response: {
        201: ref(SessionWithTokenSchema),
        400: errorResponse('VALIDATION_FAILED'),
        401: errorResponse('INVALID_CREDENTIALS: same body for unknown email, wrong password and disabled account'),
        429: errorResponse('RATE_LIMITED: too many failed logins for this account or from this address; see Retry-After'),
        503: errorResponse('STORE_UNAVAILABLE, DATABASE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    const { email, password } = request.body
    const allowed = await app.loginThrottle.assertAllowed(email, request.ip)
    const user = await app.users.findByEmail(email)
    // Always one argon2 verification, even for unknown emails, so timing does not tell them apart.
    const ok = await app.passwords.verify(user?.passwordHash ?? null, password)
    if (!ok || !user || user.disabledAt !== null) {
      await app.loginThrottle.recordFailure(email, request.ip)
      throw new InvalidCredentials()
    }
    await app.loginThrottle.recordSuccess(email, allowed)
    if (app.passwords.needsRehash(user.passwordHash)) {
      // Parameters were raised since this hash was made: upgrade it while we have the password.
      const passwordHash = await app.passwords.hash(password)
      await app.users.update(user.id, { passwordHash }).catch((err) => request.log.warn({ err }, 'password rehash failed'))
    }
    const body = await app.auth.start(request, reply, user)
    // An admin may have disabled or deleted the account while we were hashing. Disabling sets
    // disabledAt and then revokes all sessions; checking again after creating ours means one of
    // the two always sees the other, so no session of a disabled user survives.
    const after = await app.users.findById(user.id)
    if (!after || after.disabledAt !== null) {
      await app.sessions.revoke(body.session.id, user.id)
      app.auth.clearCookie(reply)
      throw new InvalidCredentials()
    }
    return reply.code(201).send(body)
  })

  app.get('/sessions/current', {
    schema: {
      tags: ['sessions'],
      summary: 'Who am I: the current session and its user (slides the expiry)',
      operationId: 'getCurrentSession',
      security: SESSION_SECURITY,
      response: {
        200: ref(SessionViewSchema),
        401: errorResponse('SESSION_INVALID'),
        503: errorResponse('STORE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    const { session } = await app.auth.require(request)
    return sendJson(reply, sessionViewJson(session))
  })

  app.delete('/sessions/current', {
    preHandler: app.csrf,
    schema: {
      tags: ['sessions'],
      summary: 'Log out: revoke the current session and clear the cookie',
      operationId: 'logout',
      security: SESSION_SECURITY,
      response: {
        204: Type.Null({ description: 'Logged out (also when there was no session).' }),
        403: errorResponse('CSRF_REJECTED'),
        503: errorResponse('STORE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    // On a store outage this throws (503) before the cookie is cleared: a cleared cookie with a
    // live session behind it would only look like a logout.
    const current = await app.auth.current(request, { extend: false })
    if (current) await app.sessions.revoke(current.session.id, current.session.user.id)
    app.auth.clearCookie(reply)
    return reply.code(204).send(null)
  })

  app.post('/sessions/validate', {
    schema: {
      tags: ['sessions'],
      summary: 'For services: resolve a session token into its user (slides the expiry unless extend=false)',
      operationId: 'validateSession',
      body: ValidateBodySchema,
      security: [],
      response: {
        200: ref(SessionViewSchema),
        400: errorResponse('VALIDATION_FAILED'),
        401: errorResponse('SESSION_INVALID'),
        503: errorResponse('STORE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    const result = await app.sessions.validate(request.body.token, { extend: request.body.extend ?? true })
    request.sessionOutcome = result.status
    if (result.status !== 'valid') throw new SessionInvalid()
    return sendJson(reply, sessionViewJson(result.session, false))
  })
}

export default sessionsRoutes
