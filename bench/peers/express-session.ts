// express 5 + express-session + connect-redis (node-redis client), the way their READMEs set them up.
import express from 'express'
import session from 'express-session'
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import { COOKIE_SECRET, IDLE_TTL_MS, user } from '../lib/fixtures.js'

declare module 'express-session' {
  interface SessionData { user: typeof user }
}

const client = createClient({ url: process.env.REDIS_URL })
await client.connect()

const app = express()
app.disable('x-powered-by')
app.use(session({
  store: new RedisStore({ client, prefix: 'express:' }),
  name: 'session',
  secret: COOKIE_SECRET,
  rolling: true,
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, secure: false, sameSite: 'lax', maxAge: IDLE_TTL_MS }
}))
app.post('/login', (req, res) => {
  req.session.user = user
  res.status(201).json({ user })
})
app.get('/me', (req, res) => {
  if (!req.session.user) { res.status(401).json({ error: 'no session' }); return }
  res.json({ user: req.session.user })
})
app.listen(Number(process.env.PORT), '127.0.0.1')

// exit cleanly on SIGTERM (so --cpu-prof can write its profile)
process.once('SIGTERM', () => process.exit(0))
