import { Type } from 'typebox'

export const ValidateBodySchema = Type.Object({
  // Not length-limited here on purpose: a malformed or huge token is an invalid session (401),
  // not a malformed request; the body limit bounds it.
  token: Type.String({ description: 'The session token `<id>.<secret>`.' }),
  extend: Type.Optional(Type.Boolean({ default: true, description: 'Slide the idle expiry (default true).' }))
})

// A session id as the API shows it (see token.ts): 28 base64url characters.
export const SessionIdSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{28}$', description: 'Session id (28 base64url characters).' })

export const SessionIdParamsSchema = Type.Object({ id: SessionIdSchema })

export const RevokeScopeQuerySchema = Type.Object({
  // Required on purpose: logging out everywhere should never be the result of a forgotten parameter.
  scope: Type.Union([Type.Literal('others'), Type.Literal('all')], { description: '`others`: every session but this one; `all`: this one too.' })
})

export const RevokedSchema = Type.Object({
  revoked: Type.Integer({ minimum: 0, description: 'How many sessions were revoked.' })
}, { additionalProperties: false })
