import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { EmailTaken, PasswordTooCommon, RegistrationClosed } from '../errors.js'
import { errorResponse, ref, SessionWithTokenSchema } from '../schemas.js'
import { RegisterBodySchema } from './schemas.js'

const usersRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.post('/users', {
    schema: {
      tags: ['users'],
      summary: 'Register: create an account and start a session',
      operationId: 'register',
      body: RegisterBodySchema,
      security: [],
      response: {
        201: ref(SessionWithTokenSchema),
        400: errorResponse('VALIDATION_FAILED, PASSWORD_TOO_COMMON'),
        403: errorResponse('REGISTRATION_CLOSED'),
        409: errorResponse('EMAIL_TAKEN'),
        429: errorResponse('RATE_LIMITED: too many registrations from this address; see Retry-After'),
        503: errorResponse('STORE_UNAVAILABLE, DATABASE_UNAVAILABLE')
      }
    }
  }, async (request, reply) => {
    if (!config.ALLOW_REGISTRATION) throw new RegistrationClosed()
    await app.loginThrottle.assertRegistrationAllowed(request.ip)
    const { email, password, name } = request.body
    if (app.passwords.isCommon(password)) throw new PasswordTooCommon()
    const passwordHash = await app.passwords.hash(password)
    const user = await app.users.create({ email, name: name ?? null, passwordHash })
    if (!user) throw new EmailTaken()
    const body = await app.auth.start(request, reply, user)
    return reply.code(201).send(body)
  })
}

export default usersRoutes
