import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { InvalidCredentials, PasswordTooCommon, SessionInvalid } from '../errors.js'
import { errorResponse, ref, SESSION_SECURITY, SessionWithTokenSchema, UserSchema } from '../schemas.js'
import type { CurrentSession } from '../sessions/plugin.js'
import { toUser } from '../sessions/view.js'
import { ChangePasswordBodySchema, UpdateMeBodySchema } from './schemas.js'

/** "My account": change my name, change my password. */
const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** The caller's user row; a session whose user was deleted or disabled meanwhile is dead. */
  async function currentUser (request: FastifyRequest, current: CurrentSession) {
    const user = await app.users.findById(current.session.user.id)
    if (!user || user.disabledAt !== null) {
      await app.sessions.revokeAllForUser(current.session.user.id)
      throw new SessionInvalid()
    }
    return user
  }

  app.patch('/users/me', {
    preHandler: app.csrf,
    schema: {
      tags: ['users'],
      summary: 'Change my name (live sessions see it at once)',
      operationId: 'updateMe',
      body: UpdateMeBodySchema,
      security: SESSION_SECURITY,
      response: {
        200: ref(UserSchema),
        400: errorResponse('VALIDATION_FAILED'),
        401: errorResponse('SESSION_INVALID'),
        403: errorResponse('CSRF_REJECTED'),
        503: errorResponse('STORE_UNAVAILABLE, DATABASE_UNAVAILABLE')
      }
    }
  }, async (request) => {
    const current = await app.auth.require(request)
    await currentUser(request, current)
    const user = await app.users.update(current.session.user.id, { name: request.body.name })
    if (!user) throw new SessionInvalid()
    // Validate never reads Postgres: push the new snapshot into every live session of the user.
    await app.sessions.updateUser(user)
    return toUser(user)
  })

  app.post('/users/me/password', {
    preHandler: app.csrf,
    schema: {
      tags: ['users'],
      summary: 'Change my password: revokes every session of mine and returns a new one for this client',
      operationId: 'changeMyPassword',
      body: ChangePasswordBodySchema,
      security: SESSION_SECURITY,
      response: {
        200: ref(SessionWithTokenSchema),
        400: errorResponse('VALIDATION_FAILED, PASSWORD_TOO_COMMON'),
        401: errorResponse('SESSION_INVALID (no session), INVALID_CREDENTIALS (wrong current password)'),
        403: errorResponse('CSRF_REJECTED'),
        429: errorResponse('RATE_LIMITED: too many wrong passwords for this account or from this address; see Retry-After'),
        503: errorResponse('STORE_UNAVAILABLE, DATABASE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    const current = await app.auth.require(request, { extend: false })
    const user = await currentUser(request, current)
    const { currentPassword, newPassword } = request.body
    // A stolen session alone must not be enough to take the account over, nor to guess the
    // password through this route: wrong current passwords count like failed logins (SPEC §7).
    const allowed = await app.loginThrottle.assertAllowed(user.email, request.ip)
    if (!await app.passwords.verify(user.passwordHash, currentPassword)) {
      await app.loginThrottle.recordFailure(user.email, request.ip)
      throw new InvalidCredentials()
    }
    await app.loginThrottle.recordSuccess(user.email, allowed)
    if (app.passwords.isCommon(newPassword)) throw new PasswordTooCommon()
    const passwordHash = await app.passwords.hash(newPassword)
    const updated = await app.users.update(user.id, { passwordHash, passwordChangedAt: new Date() })
    if (!updated) throw new SessionInvalid()
    // Whoever else knew the old password (or holds a session) is out: every session goes, this one
    // included, and this client gets a fresh id and secret (its old token stops working).
    await app.sessions.revokeAllForUser(user.id)
    const body = await app.auth.start(request, reply, updated)
    return reply.code(200).send(body)
  })
}

export default meRoutes
