import { Type } from 'typebox'
import { EmailSchema, NameSchema, PasswordSchema, RolesSchema, UserIdSchema } from '../users/schemas.js'

export const UserIdParamsSchema = Type.Object({ id: UserIdSchema })

export const AdminCreateUserBodySchema = Type.Object({
  email: EmailSchema,
  password: PasswordSchema,
  name: Type.Optional(NameSchema),
  roles: Type.Optional({ ...RolesSchema, description: 'Default ["user"].' })
})

export const FindUserQuerySchema = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 320, description: 'Exact email, compared case-insensitively.' })
})

export const AdminUpdateUserBodySchema = Type.Object({
  name: Type.Optional(Type.Union([NameSchema, Type.Null()], { description: 'null clears the name.' })),
  roles: Type.Optional(RolesSchema),
  disabled: Type.Optional(Type.Boolean({ description: 'true: the user cannot log in and every session is revoked; false: re-enabled.' }))
}, { minProperties: 1, additionalProperties: false })
