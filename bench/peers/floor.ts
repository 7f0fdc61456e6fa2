// floor: bare Fastify route answering a constant JSON user (no store at all).
import Fastify from 'fastify'
import { user } from '../lib/fixtures.js'

const app = Fastify({ logger: false })
app.get('/me', async () => ({ user }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })

// exit cleanly on SIGTERM (so --cpu-prof can write its profile)
process.once('SIGTERM', () => process.exit(0))
