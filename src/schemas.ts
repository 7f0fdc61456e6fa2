import { Type, type Static, type TSchema } from 'typebox'

/**
 * A reference to a shared schema registered with `app.addSchema` (it carries an `$id`), typed as
 * the schema itself, so routes stay typed and openapi.json names stay stable.
 */
export function ref<T extends TSchema> (schema: T) {
  const id = (schema as { $id?: string }).$id
  if (id === undefined) throw new Error('ref() needs a schema with an $id')
  return Type.Unsafe<Static<T>>({ $ref: `${id}#` })
}

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'Stable machine-readable error code, e.g. SESSION_INVALID.' }),
  error: Type.String(),
  message: Type.String()
}, { $id: 'Error', description: 'Every error has this shape.' })

export const UserSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.String())
}, { $id: 'User', additionalProperties: false })

export const SessionSchema = Type.Object({
  id: Type.String({ description: 'Public session handle (not a credential).' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time', description: 'Idle expiry, capped by absoluteExpiresAt.' }),
  absoluteExpiresAt: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Optional(Type.Boolean({ description: 'True for the session making this request.' }))
}, { $id: 'Session', additionalProperties: false })

export const SessionViewSchema = Type.Object({
  user: ref(UserSchema),
  session: ref(SessionSchema)
}, { $id: 'SessionView', additionalProperties: false })

export const SessionWithTokenSchema = Type.Object({
  user: ref(UserSchema),
  session: ref(SessionSchema),
  token: Type.String({ description: 'Bearer token `<id>.<secret>` for non-browser clients; also set as the session cookie.' })
}, { $id: 'SessionWithToken', additionalProperties: false })

/** A user as the admin API shows it: the User plus account state. Never the password hash. */
export const UserDetailSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.String()),
  disabled: Type.Boolean({ description: 'A disabled user cannot log in and has no sessions.' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  passwordChangedAt: Type.String({ format: 'date-time' })
}, { $id: 'UserDetail', additionalProperties: false })

export const SHARED_SCHEMAS = [ErrorSchema, UserSchema, SessionSchema, SessionViewSchema, SessionWithTokenSchema, UserDetailSchema]

export const errorResponse = (description: string) => ({ ...ref(ErrorSchema), description })

export type User = Static<typeof UserSchema>
export type Session = Static<typeof SessionSchema>
export type UserDetail = Static<typeof UserDetailSchema>

/** Security requirements for the OpenAPI document. */
export const SESSION_SECURITY: Array<Record<string, string[]>> = [{ sessionCookie: [] }, { bearerAuth: [] }]

/** Security requirement of the admin API (`Authorization: Bearer <ADMIN_TOKEN>`). */
export const ADMIN_SECURITY: Array<Record<string, string[]>> = [{ adminToken: [] }]
