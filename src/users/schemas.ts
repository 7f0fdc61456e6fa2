import { Type } from 'typebox'

// Emails are trimmed before use; the pattern is deliberately loose (one @, no spaces inside):
// the only real check of an email address is a message to it.
export const EmailSchema = Type.String({ minLength: 3, maxLength: 320, pattern: '^\\s*[^\\s@\\x00-\\x1f\\x7f]+@[^\\s@\\x00-\\x1f\\x7f]+\\s*$' })
// 8..256 characters, no composition rules (SPEC §7); common passwords are refused in the handler.
export const PasswordSchema = Type.String({ minLength: 8, maxLength: 256 })
// Control characters (NUL above all, which PostgreSQL text cannot hold) are refused.
export const NameSchema = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\x00-\\x1f\\x7f]+$' })

export const RegisterBodySchema = Type.Object({
  email: EmailSchema,
  password: PasswordSchema,
  name: Type.Optional(NameSchema)
})

export const LoginBodySchema = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 320, pattern: '^[^\\x00]*$' }),
  // Any length up to the maximum: an old password shorter than today's rule must still log in.
  password: Type.String({ minLength: 1, maxLength: 256 })
})

export const UpdateMeBodySchema = Type.Object({
  name: Type.Union([NameSchema, Type.Null()], { description: 'New display name; null clears it.' })
})

export const ChangePasswordBodySchema = Type.Object({
  // Any length up to the maximum, like login: the current password may predate today's rules.
  currentPassword: Type.String({ minLength: 1, maxLength: 256 }),
  newPassword: PasswordSchema
})

// Role names end up comma-joined in forward-auth headers: no commas, no spaces.
export const RoleSchema = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' })
export const RolesSchema = Type.Array(RoleSchema, { maxItems: 32, uniqueItems: true })

export const UserIdSchema = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description: 'User id (uuid).' })
