import type { InjectOptions } from 'fastify'
import t from 'tap'
import { build, PASSWORD, register, uniqueEmail } from '../helper.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { waitFor } from '../support/ports.js'
import { startPostgres } from '../support/postgres.js'

/*
 * SPEC §8, PostgreSQL down: validate and whoami keep working (they need Redis only), login and
 * registration answer 503 DATABASE_UNAVAILABLE without a cookie, readiness fails, and the service
 * recovers by itself when the database is back. A private PostgreSQL behind a fault proxy.
 */

// initdb and pg_ctl run as the postgres user (runuser), which needs root, as in CI.
const canRunPostgres = process.getuid?.() === 0
t.test('PostgreSQL hanging, then down and restarted', { skip: !canRunPostgres && 'needs root to run a private PostgreSQL as the postgres user' }, async (t) => {
  const postgres = await startPostgres(t)
  const proxy = await startFaultProxy({ port: postgres.port })
  t.teardown(() => proxy.close())
  const app = await build(t, { DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`, DATABASE_TIMEOUT_MS: '500' })
  const u = await register(app)

  const assertDegraded = async (label: string) => {
    const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })
    t.equal(v.statusCode, 200, `${label}: validate still works`)
    const me = await app.inject({ url: '/v1/sessions/current', headers: { cookie: u.cookie } })
    t.equal(me.statusCode, 200, `${label}: whoami still works`)
    for (const url of ['/v1/auth/forward', '/v1/auth/request']) {
      if (!app.hasRoute({ method: 'GET', url })) continue
      const fa = await app.inject({ url, headers: { cookie: u.cookie } })
      t.equal(fa.statusCode, 200, `${label}: forward-auth ${url} still works`)
    }
    const requests: Array<[string, InjectOptions]> = [
      ['login', { method: 'POST', url: '/v1/sessions', payload: { email: u.email, password: PASSWORD } }],
      ['registration', { method: 'POST', url: '/v1/users', payload: { email: uniqueEmail('pgdown'), password: PASSWORD } }]
    ]
    for (const [name, request] of requests) {
      const started = performance.now()
      const res = await app.inject(request)
      t.equal(res.statusCode, 503, `${label}: ${name} 503`)
      t.equal(res.json().code, 'DATABASE_UNAVAILABLE', `${label}: ${name} DATABASE_UNAVAILABLE`)
      t.equal(res.headers['retry-after'], '1')
      t.notOk(res.headers['set-cookie'], `${label}: ${name} sets no cookie`)
      t.comment(`${label}: ${name} answered 503 in ${Math.round(performance.now() - started)} ms`)
    }
    const ready = await app.inject({ url: '/health/ready' })
    t.equal(ready.statusCode, 503, `${label}: not ready`)
    t.equal(ready.json().checks.postgres, 'down')
    t.equal(ready.json().checks.redis, 'up')
  }
  const assertRecovered = async (label: string) => {
    const started = performance.now()
    await waitFor(async () => (await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: u.email, password: PASSWORD } })).statusCode === 201,
      20_000, 'login to work again')
    t.comment(`${label}: login works again ${Math.round(performance.now() - started)} ms after the fault was removed`)
    t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200, `${label}: ready again`)
  }

  proxy.set('blackhole')
  await assertDegraded('hanging')
  proxy.set('pass')
  await assertRecovered('hanging')

  await postgres.crash()
  await assertDegraded('down')
  await postgres.start()
  await assertRecovered('down')
})
