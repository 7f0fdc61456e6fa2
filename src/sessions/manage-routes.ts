import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { SessionNotFound } from '../errors.js'
import { errorResponse, ref, SESSION_SECURITY, SessionSchema } from '../schemas.js'
import { RevokedSchema, RevokeScopeQuerySchema, SessionIdParamsSchema } from './schemas.js'
import { toSession } from './view.js'

/** "My sessions": list my devices, log one out, or log out the others / all. */
const manageSessionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/sessions', {
    schema: {
      tags: ['sessions'],
      summary: 'List my live sessions, newest first (`current` marks the one making this request)',
      operationId: 'listMySessions',
      security: SESSION_SECURITY,
      response: {
        200: Type.Array(ref(SessionSchema)),
        401: errorResponse('SESSION_INVALID'),
        503: errorResponse('STORE_UNAVAILABLE')
      }
    }
  }, async (request) => {
    const { session } = await app.auth.require(request)
    const all = await app.sessions.listByUser(session.user.id)
    return all.map((s) => toSession(s, session.id))
  })

  app.delete('/sessions/:id', {
    preHandler: app.csrf,
    schema: {
      tags: ['sessions'],
      summary: 'Revoke one of my sessions (revoking the current one also clears the cookie)',
      operationId: 'revokeMySession',
      params: SessionIdParamsSchema,
      security: SESSION_SECURITY,
      response: {
        204: Type.Null({ description: 'Revoked.' }),
        400: errorResponse('VALIDATION_FAILED: the id is not a session id'),
        401: errorResponse('SESSION_INVALID'),
        403: errorResponse('CSRF_REJECTED'),
        404: errorResponse('SESSION_NOT_FOUND: unknown, expired, or not mine (indistinguishable on purpose)'),
        503: errorResponse('STORE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    const { session } = await app.auth.require(request, { extend: false })
    // Scoped to the caller: someone else's session id answers exactly like an unknown one, so the
    // endpoint cannot be used to probe which ids exist.
    const revoked = await app.sessions.revoke(request.params.id, session.user.id)
    if (!revoked) throw new SessionNotFound()
    if (request.params.id === session.id) app.auth.clearCookie(reply)
    return reply.code(204).send(null)
  })

  app.delete('/sessions', {
    preHandler: app.csrf,
    schema: {
      tags: ['sessions'],
      summary: 'Log out my other devices (scope=others) or everywhere (scope=all)',
      operationId: 'revokeMySessions',
      querystring: RevokeScopeQuerySchema,
      security: SESSION_SECURITY,
      response: {
        200: RevokedSchema,
        400: errorResponse('VALIDATION_FAILED: scope missing or not others|all'),
        401: errorResponse('SESSION_INVALID'),
        403: errorResponse('CSRF_REJECTED'),
        503: errorResponse('STORE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    const { session } = await app.auth.require(request, { extend: false })
    const all = request.query.scope === 'all'
    const revoked = await app.sessions.revokeAllForUser(session.user.id, all ? {} : { except: session.id })
    if (all) app.auth.clearCookie(reply)
    return { revoked }
  })
}

export default manageSessionsRoutes
