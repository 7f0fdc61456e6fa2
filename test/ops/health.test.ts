import t from 'tap'
import { build } from '../helper.js'
import { closedPort } from './helper.js'

t.test('live and ready answer 200 when Redis and Postgres are up', async (t) => {
  const app = await build(t)
  const live = await app.inject({ url: '/health/live' })
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })
  const ready = await app.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ok', checks: { redis: 'up', postgres: 'up' } })
})

t.test('Redis unreachable: the app still starts, live is 200, ready is 503 naming redis', async (t) => {
  const port = await closedPort()
  const app = await build(t, { REDIS_URL: `redis://127.0.0.1:${port}` })
  const live = await app.inject({ url: '/health/live' })
  t.equal(live.statusCode, 200)
  const ready = await app.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  const body = ready.json()
  t.equal(body.code, 'NOT_READY')
  t.same(body.checks, { redis: 'down', postgres: 'up' })
  t.match(body.message, /redis/)
  t.notMatch(body.message, /postgres/)
})

t.test('Postgres unreachable: ready is 503 naming postgres', async (t) => {
  const port = await closedPort()
  const app = await build(t, { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`, MIGRATE_ON_START: 'false' })
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)
  const ready = await app.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  const body = ready.json()
  t.equal(body.code, 'NOT_READY')
  t.same(body.checks, { redis: 'up', postgres: 'down' })
  t.match(body.message, /postgres/)
  t.notMatch(body.message, /redis/)
})

t.test('both down: ready names both', async (t) => {
  const [rp, pp] = [await closedPort(), await closedPort()]
  const app = await build(t, {
    REDIS_URL: `redis://127.0.0.1:${rp}`,
    DATABASE_URL: `postgres://postgres@127.0.0.1:${pp}/test`,
    MIGRATE_ON_START: 'false'
  })
  const ready = await app.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  t.same(ready.json().checks, { redis: 'down', postgres: 'down' })
  t.match(ready.json().message, /redis and postgres/)
})
