import { Type } from 'typebox'

export const ValidateBodySchema = Type.Object({
  // Not length-limited here on purpose: a malformed or huge token is an invalid session (401),
  // not a malformed request; the body limit bounds it.
  token: Type.String({ description: 'The session token `<id>.<secret>`.' }),
  extend: Type.Optional(Type.Boolean({ default: true, description: 'Slide the idle expiry (default true).' }))
})
