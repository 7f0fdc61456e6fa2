// limit: bare Fastify route doing exactly one Redis round trip (GETEX ... PX)
// for a ~200-byte JSON session named by "Authorization: Bearer <token>".
// AUTO_PIPELINE=1 turns on ioredis enableAutoPipelining.
// POST /validate is a control, not the limit: the same lookup with the token in a JSON body
// checked by a schema, the shape of sessiond's validate (SPEC §5), so the report can show what
// the body costs on bare Fastify.
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { IDLE_TTL_MS, LIMIT_PREFIX } from '../lib/fixtures.js'

const redis = new Redis(process.env.REDIS_URL!, {
  enableAutoPipelining: process.env.AUTO_PIPELINE === '1'
})
const app = Fastify({ logger: false })

app.get('/me', async (req, reply) => {
  const h = req.headers.authorization
  if (!h?.startsWith('Bearer ')) return reply.code(401).send({ error: 'no token' })
  const raw = await redis.getex(LIMIT_PREFIX + h.slice(7), 'PX', IDLE_TTL_MS)
  if (raw === null) return reply.code(401).send({ error: 'invalid' })
  return { user: JSON.parse(raw).user }
})
app.post('/validate', {
  schema: { body: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } } }
}, async (req, reply) => {
  const { token } = req.body as { token: string }
  const raw = await redis.getex(LIMIT_PREFIX + token, 'PX', IDLE_TTL_MS)
  if (raw === null) return reply.code(401).send({ error: 'invalid' })
  return { user: JSON.parse(raw).user }
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })

// exit cleanly on SIGTERM (so --cpu-prof can write its profile)
process.once('SIGTERM', () => process.exit(0))
