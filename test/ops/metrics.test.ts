import t from 'tap'
import { bearer, build, login, register, testClock } from '../helper.js'
import { closedPort } from './helper.js'

type App = Awaited<ReturnType<typeof build>>

/** The value of one sample line, e.g. `sessiond_validate_total{outcome="valid"}`. */
async function sample (app: App, series: string): Promise<number | undefined> {
  const res = await app.inject({ url: '/metrics' })
  const line = res.body.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

t.test('/metrics speaks Prometheus text and counts validate and login outcomes', async (t) => {
  const clock = testClock()
  const app = await build(t, { SESSION_IDLE_TTL: '60', SESSION_ABSOLUTE_TTL: '120' }, { clock })

  const first = await app.inject({ url: '/metrics' })
  t.equal(first.statusCode, 200)
  t.match(first.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  for (const outcome of ['valid', 'invalid', 'expired', 'store_error']) {
    t.equal(await sample(app, `sessiond_validate_total{outcome="${outcome}"}`), 0, `validate ${outcome} starts at 0`)
  }
  for (const outcome of ['ok', 'failed', 'throttled']) {
    t.equal(await sample(app, `sessiond_logins_total{outcome="${outcome}"}`), 0, `logins ${outcome} starts at 0`)
  }
  t.match(first.body, /process_cpu_user_seconds_total/, 'process metrics included')

  const u = await register(app)
  t.equal((await login(app, u.email)).statusCode, 201)
  t.equal((await login(app, u.email, 'wrong password here')).statusCode, 401)
  t.equal((await login(app, 'nobody@example.test')).statusCode, 401)
  t.equal((await login(app, 'not-an-email', '')).statusCode, 400, 'a bad body is no login attempt')

  const validate = (token: string) => app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
  t.equal((await validate(u.token)).statusCode, 200)
  t.equal((await validate('garbage')).statusCode, 401)
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: bearer(u.token) })).statusCode, 200)
  t.equal((await app.inject({ url: '/v1/sessions/current' })).statusCode, 401, 'no credential counts as invalid')
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { cookie: 'x=y' } })).statusCode, 204, 'logout is not a validation')
  // Forward-auth resolves sessions too: a 403 for a missing role is still a valid session.
  t.equal((await app.inject({ url: '/v1/auth/forward', headers: bearer(u.token) })).statusCode, 200)
  t.equal((await app.inject({ url: '/v1/auth/forward?role=admin', headers: bearer(u.token) })).statusCode, 403)
  t.equal((await app.inject({ url: '/v1/auth/request' })).statusCode, 401)
  clock.advance(61_000)
  t.equal((await validate(u.token)).statusCode, 401)

  t.equal(await sample(app, 'sessiond_validate_total{outcome="valid"}'), 4)
  t.equal(await sample(app, 'sessiond_validate_total{outcome="invalid"}'), 3)
  t.equal(await sample(app, 'sessiond_validate_total{outcome="expired"}'), 1)
  t.equal(await sample(app, 'sessiond_validate_total{outcome="store_error"}'), 0)
  t.equal(await sample(app, 'sessiond_logins_total{outcome="ok"}'), 1)
  t.equal(await sample(app, 'sessiond_logins_total{outcome="failed"}'), 2)

  // Latency histograms are per route pattern and method, never per raw URL.
  t.equal(await sample(app, 'sessiond_http_request_duration_seconds_count{method="POST",route="/v1/sessions/validate",status_code="200"}'), 1)
  t.equal(await sample(app, 'sessiond_http_request_duration_seconds_count{method="GET",route="/v1/auth/forward",status_code="403"}'), 1, 'query strings are not part of the route')
  t.equal(await sample(app, 'sessiond_http_request_duration_seconds_count{method="POST",route="/v1/sessions/validate",status_code="401"}'), 2)
  t.equal(await sample(app, 'sessiond_http_request_duration_seconds_count{method="POST",route="/v1/sessions",status_code="201"}'), 1)
  t.equal(await sample(app, 'sessiond_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/v1/users",status_code="201"}'), 1)
  const other = await register(app)
  const revoke = await app.inject({ method: 'DELETE', url: `/v1/sessions/${other.body.session.id}`, headers: bearer(other.token) })
  t.equal(revoke.statusCode, 204)
  t.equal(await sample(app, 'sessiond_http_request_duration_seconds_count{method="DELETE",route="/v1/sessions/:id",status_code="204"}'), 1)
  await app.inject({ url: '/no/such/thing-12345?token=abc' })
  await app.inject({ url: '/another/unknown' })
  const body = (await app.inject({ url: '/metrics' })).body
  t.notMatch(body, /thing-12345|another|token=abc/, 'unknown URLs do not become label values')
  t.notOk(body.includes(other.body.session.id), 'path parameters do not become label values')
  t.match(body, /sessiond_http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 2/)
})

t.test('a store outage on validate and whoami counts as store_error', async (t) => {
  const port = await closedPort()
  const app = await build(t, { REDIS_URL: `redis://127.0.0.1:${port}` })
  const token = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
  const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
  const w = await app.inject({ url: '/v1/sessions/current', headers: bearer(token) })
  t.equal(v.statusCode, 503)
  t.equal(w.statusCode, 503)
  t.equal(await sample(app, 'sessiond_validate_total{outcome="store_error"}'), 2)
  t.equal(await sample(app, 'sessiond_validate_total{outcome="invalid"}'), 0)
})
