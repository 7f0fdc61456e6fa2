// @fastify/cookie + @fastify/session + connect-redis (node-redis client).
import Fastify from 'fastify'
import cookie from '@fastify/cookie'
import session from '@fastify/session'
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import { COOKIE_SECRET, IDLE_TTL_MS, user } from '../lib/fixtures.js'

declare module 'fastify' {
  interface Session { user?: typeof user }
}

const client = createClient({ url: process.env.REDIS_URL })
await client.connect()

const app = Fastify({ logger: false })
await app.register(cookie)
await app.register(session, {
  store: new RedisStore({ client, prefix: 'fsess:' }),
  cookieName: 'session',
  secret: COOKIE_SECRET,
  rolling: true,
  saveUninitialized: false,
  cookie: { httpOnly: true, secure: false, sameSite: 'lax', maxAge: IDLE_TTL_MS }
})
app.post('/login', async (req, reply) => {
  req.session.set('user', user)
  return reply.code(201).send({ user })
})
app.get('/me', async (req, reply) => {
  const u = req.session.get('user')
  if (!u) return reply.code(401).send({ error: 'no session' })
  return { user: u }
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })

// exit cleanly on SIGTERM (so --cpu-prof can write its profile)
process.once('SIGTERM', () => process.exit(0))
