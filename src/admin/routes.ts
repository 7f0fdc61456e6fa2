import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { UserRow } from '../db/schema.js'
import { EmailTaken, PasswordTooCommon, SessionNotFound, UserNotFound, ValidationFailed } from '../errors.js'
import { ADMIN_SECURITY, errorResponse, ref, SessionSchema, UserDetailSchema, type UserDetail } from '../schemas.js'
import { RevokedSchema, SessionIdParamsSchema } from '../sessions/schemas.js'
import { toSession } from '../sessions/view.js'
import { AdminCreateUserBodySchema, AdminUpdateUserBodySchema, FindUserQuerySchema, UserIdParamsSchema } from './schemas.js'

export function toUserDetail (u: UserRow): UserDetail {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    roles: u.roles,
    disabled: u.disabledAt !== null,
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
    passwordChangedAt: u.passwordChangedAt.toISOString()
  }
}

const TAGS = ['admin']
const UNAUTHORIZED = errorResponse('ADMIN_UNAUTHORIZED: missing or wrong admin token')
const BAD_ID = errorResponse('VALIDATION_FAILED: the id is malformed')

/** Admin routes; the token check lives in plugin.ts, around them. */
const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  async function findUser (id: string): Promise<UserRow> {
    const user = await app.users.findById(id)
    if (!user) throw new UserNotFound()
    return user
  }

  app.post('/users', {
    schema: {
      tags: TAGS,
      summary: 'Create a user (no session is started)',
      operationId: 'adminCreateUser',
      body: AdminCreateUserBodySchema,
      security: ADMIN_SECURITY,
      response: {
        201: ref(UserDetailSchema),
        400: errorResponse('VALIDATION_FAILED, PASSWORD_TOO_COMMON'),
        401: UNAUTHORIZED,
        409: errorResponse('EMAIL_TAKEN'),
        503: errorResponse('DATABASE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    const { email, password, name, roles } = request.body
    if (app.passwords.isCommon(password)) throw new PasswordTooCommon()
    const passwordHash = await app.passwords.hash(password)
    const user = await app.users.create({ email, name: name ?? null, passwordHash, ...(roles ? { roles } : {}) })
    if (!user) throw new EmailTaken()
    return reply.code(201).send(toUserDetail(user))
  })

  app.get('/users', {
    schema: {
      tags: TAGS,
      summary: 'Find a user by email: a list of zero or one user',
      operationId: 'adminFindUsers',
      querystring: FindUserQuerySchema,
      security: ADMIN_SECURITY,
      response: {
        200: Type.Array(ref(UserDetailSchema)),
        400: errorResponse('VALIDATION_FAILED: email missing'),
        401: UNAUTHORIZED,
        503: errorResponse('DATABASE_UNAVAILABLE')
      }
    }
  }, async (request) => {
    const user = await app.users.findByEmail(request.query.email)
    return user ? [toUserDetail(user)] : []
  })

  app.get('/users/:id', {
    schema: {
      tags: TAGS,
      summary: 'Get a user',
      operationId: 'adminGetUser',
      params: UserIdParamsSchema,
      security: ADMIN_SECURITY,
      response: {
        200: ref(UserDetailSchema),
        400: BAD_ID,
        401: UNAUTHORIZED,
        404: errorResponse('USER_NOT_FOUND'),
        503: errorResponse('DATABASE_UNAVAILABLE')
      }
    }
  }, async (request) => toUserDetail(await findUser(request.params.id)))

  app.patch('/users/:id', {
    schema: {
      tags: TAGS,
      summary: 'Change name, roles or disabled; live sessions see a new name/roles at their next validate, disabling revokes them',
      operationId: 'adminUpdateUser',
      params: UserIdParamsSchema,
      body: AdminUpdateUserBodySchema,
      security: ADMIN_SECURITY,
      response: {
        200: ref(UserDetailSchema),
        400: errorResponse('VALIDATION_FAILED'),
        401: UNAUTHORIZED,
        404: errorResponse('USER_NOT_FOUND'),
        503: errorResponse('DATABASE_UNAVAILABLE, STORE_UNAVAILABLE')
      }
    }
  }, async (request) => {
    const { name, roles, disabled } = request.body
    // Unknown fields are stripped by the schema (removeAdditional), so `{ "email": ... }` arrives empty.
    if (name === undefined && roles === undefined && disabled === undefined) throw new ValidationFailed('body must have at least one of name, roles, disabled')
    const before = await findUser(request.params.id)
    const changes: Parameters<typeof app.users.update>[1] = {}
    if (name !== undefined) changes.name = name
    if (roles !== undefined) changes.roles = roles
    // Keep the original time when disabling an already disabled user.
    if (disabled !== undefined) changes.disabledAt = disabled ? (before.disabledAt ?? new Date()) : null
    const user = await app.users.update(before.id, changes)
    if (!user) throw new UserNotFound()
    // Validate never reads Postgres, so the sessions are brought in line here. Postgres first:
    // a login racing this already sees the new row.
    if (user.disabledAt !== null) await app.sessions.revokeAllForUser(user.id)
    else if (name !== undefined || roles !== undefined) await app.sessions.updateUser(user)
    return toUserDetail(user)
  })

  app.delete('/users/:id', {
    schema: {
      tags: TAGS,
      summary: 'Delete a user and revoke all their sessions',
      operationId: 'adminDeleteUser',
      params: UserIdParamsSchema,
      security: ADMIN_SECURITY,
      response: {
        204: Type.Null({ description: 'Deleted.' }),
        400: BAD_ID,
        401: UNAUTHORIZED,
        404: errorResponse('USER_NOT_FOUND'),
        503: errorResponse('DATABASE_UNAVAILABLE, STORE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    const user = await findUser(request.params.id)
    // Sessions first: if Redis is down this fails (503) with nothing deleted, and a retry is safe.
    // Deleting the row first could leave live sessions of a user no admin call can name any more.
    await app.sessions.revokeAllForUser(user.id)
    if (!await app.users.delete(user.id)) throw new UserNotFound()
    // A login that read the row just before the delete may have created a session since: sweep again.
    await app.sessions.revokeAllForUser(user.id)
    return reply.code(204).send(null)
  })

  app.get('/users/:id/sessions', {
    schema: {
      tags: TAGS,
      summary: "List a user's live sessions, newest first",
      operationId: 'adminListUserSessions',
      params: UserIdParamsSchema,
      security: ADMIN_SECURITY,
      response: {
        200: Type.Array(ref(SessionSchema)),
        400: BAD_ID,
        401: UNAUTHORIZED,
        404: errorResponse('USER_NOT_FOUND'),
        503: errorResponse('DATABASE_UNAVAILABLE, STORE_UNAVAILABLE')
      }
    }
  }, async (request) => {
    const user = await findUser(request.params.id)
    const sessions = await app.sessions.listByUser(user.id)
    return sessions.map((s) => toSession(s))
  })

  app.delete('/users/:id/sessions', {
    schema: {
      tags: TAGS,
      summary: 'Revoke every session of a user',
      operationId: 'adminRevokeUserSessions',
      params: UserIdParamsSchema,
      security: ADMIN_SECURITY,
      response: {
        200: RevokedSchema,
        400: BAD_ID,
        401: UNAUTHORIZED,
        404: errorResponse('USER_NOT_FOUND'),
        503: errorResponse('DATABASE_UNAVAILABLE, STORE_UNAVAILABLE')
      }
    }
  }, async (request) => {
    const user = await findUser(request.params.id)
    return { revoked: await app.sessions.revokeAllForUser(user.id) }
  })

  app.delete('/sessions/:id', {
    schema: {
      tags: TAGS,
      summary: 'Revoke any session by id',
      operationId: 'adminRevokeSession',
      params: SessionIdParamsSchema,
      security: ADMIN_SECURITY,
      response: {
        204: Type.Null({ description: 'Revoked.' }),
        400: BAD_ID,
        401: UNAUTHORIZED,
        404: errorResponse('SESSION_NOT_FOUND'),
        503: errorResponse('STORE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    if (!await app.sessions.revoke(request.params.id)) throw new SessionNotFound()
    return reply.code(204).send(null)
  })
}

export default adminRoutes
