// limit: bare Fastify route doing exactly one Redis round trip (GETEX ... PX)
// for a ~200-byte JSON session named by "Authorization: Bearer <token>".
// REDIS_WRITES says how the commands reach Redis:
//   plain            ioredis as it comes, one write per command
//   auto-pipelining  ioredis enableAutoPipelining: a loop turn's commands as one pipeline
//   corked           ioredis without auto-pipelining; while another GETEX is waiting, the socket is
//                    corked until the loop's check phase, so a turn's commands leave in one writev
//                    (what sessiond does, src/plugins/redis.ts)
// POST /validate is a control, not the limit: the same lookup with the token in a JSON body
// checked by a schema, the shape of sessiond's validate (SPEC §5), so the report can show what
// the body costs on bare Fastify.
import { hash, timingSafeEqual } from 'node:crypto'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { corkedWrites } from '../../src/plugins/redis.js'
import { IDLE_TTL_MS, LIMIT_PREFIX } from '../lib/fixtures.js'

const writes = process.env.REDIS_WRITES ?? 'plain'
const redis = new Redis(process.env.REDIS_URL!, {
  enableAutoPipelining: writes === 'auto-pipelining'
})
// corked: sessiond's own write batching (src/plugins/redis.ts), on while another GETEX waits
let waiting = 0
const batchWrites = corkedWrites(redis)
const answered = () => { waiting-- }
const getex: (key: string) => Promise<string | null> = writes !== 'corked'
  ? (key) => redis.getex(key, 'PX', IDLE_TTL_MS)
  : (key) => {
      batchWrites(waiting > 0)
      waiting++
      const reply = redis.getex(key, 'PX', IDLE_TTL_MS)
      reply.then(answered, answered)
      return reply
    }
const app = Fastify({ logger: false })

app.get('/me', async (req, reply) => {
  const h = req.headers.authorization
  if (!h?.startsWith('Bearer ')) return reply.code(401).send({ error: 'no token' })
  const raw = await getex(LIMIT_PREFIX + h.slice(7))
  if (raw === null) return reply.code(401).send({ error: 'invalid' })
  return { user: JSON.parse(raw).user }
})
app.post('/validate', {
  schema: { body: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } } }
}, async (req, reply) => {
  const { token } = req.body as { token: string }
  const raw = await getex(LIMIT_PREFIX + token)
  if (raw === null) return reply.code(401).send({ error: 'invalid' })
  return { user: JSON.parse(raw).user }
})
// GET /forward is a second control: the limit plus the work any forward-auth answer needs beyond
// the lookup, as sessiond's GET /v1/auth/forward does it: a SHA-256 of the presented secret and a
// constant-time compare (here of the digest with itself: the cost, not a check), no-store, and
// the user as identity headers on an empty 200. No hooks, metrics or logs.
app.get('/forward', async (req, reply) => {
  const h = req.headers.authorization
  if (!h?.startsWith('Bearer ')) return reply.code(401).send({ error: 'no token' })
  const token = h.slice(7)
  const digest = Buffer.from(hash('sha256', token, 'base64url'))
  reply.header('cache-control', 'no-store')
  const raw = await getex(LIMIT_PREFIX + token)
  if (raw === null || !timingSafeEqual(digest, digest)) return reply.code(401).send({ error: 'invalid' })
  const { user } = JSON.parse(raw)
  reply.headers({
    'x-auth-user-id': user.id,
    'x-auth-user-email': user.email,
    'x-auth-user-name': user.name,
    'x-auth-user-roles': user.roles.join(','),
    'x-auth-session-id': token.slice(0, 28)
  })
  return reply.code(200).send()
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })

// exit cleanly on SIGTERM (so --cpu-prof can write its profile)
process.once('SIGTERM', () => process.exit(0))
