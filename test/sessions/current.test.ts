import t from 'tap'
import { bearer, build, register, testClock } from '../helper.js'

const DAY = 24 * 3600_000

t.test('logout: cookie cleared, token dead everywhere, second logout still 204', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const out = await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { cookie: u.cookie } })
  t.equal(out.statusCode, 204)
  const cleared = out.cookies.find((c) => c.name === '__Host-session')
  t.equal(cleared?.value, '', 'cookie cleared')
  t.ok(cleared?.expires && cleared.expires.getTime() <= Date.now(), 'and expired')
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: { cookie: u.cookie } })).statusCode, 401)
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: bearer(u.token) })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })).statusCode, 401)
  const again = await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { cookie: u.cookie } })
  t.equal(again.statusCode, 204)
  const none = await app.inject({ method: 'DELETE', url: '/v1/sessions/current' })
  t.equal(none.statusCode, 204, 'without any credential too')
})

t.test('logout by bearer', async (t) => {
  const app = await build(t)
  const u = await register(app)
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: bearer(u.token) })).statusCode, 204)
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })).statusCode, 401)
})

t.test('malformed, empty and huge tokens are 401, on every path', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const [id] = u.token.split('.') as [string]
  const bad = ['', ' ', 'abc', `${id}.`, `${id}.${'A'.repeat(43)}`, u.token + 'A', u.token.replace('.', '-'), 'é'.repeat(72), `${u.token}\u0000`, 'x'.repeat(8000)]
  for (const token of bad) {
    const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
    t.equal(v.statusCode, 401, `validate: ${JSON.stringify(token.slice(0, 20))}`)
    t.equal(v.json().code, 'SESSION_INVALID')
    if (token.trim() !== '' && !/[^\x21-\x7e]/.test(token)) {
      const w = await app.inject({ url: '/v1/sessions/current', headers: bearer(token) })
      t.equal(w.statusCode, 401, `whoami bearer: ${token.slice(0, 20)}`)
      const c = await app.inject({ url: '/v1/sessions/current', headers: { cookie: `__Host-session=${token}` } })
      t.equal(c.statusCode, 401, `whoami cookie: ${token.slice(0, 20)}`)
    }
  }
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: { authorization: 'Basic Zm9vOmJhcg==' } })).statusCode, 401)
  t.equal((await app.inject({ url: '/v1/sessions/current' })).statusCode, 401)
  const wrongType = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: 5 } })
  t.equal(wrongType.statusCode, 400)
  t.equal(wrongType.json().code, 'VALIDATION_FAILED')
})

t.test('idle and absolute expiry through the API, driven by the clock', async (t) => {
  const clock = testClock()
  const app = await build(t, {}, { clock })
  const u = await register(app)
  clock.advance(6 * DAY)
  const whoami = await app.inject({ url: '/v1/sessions/current', headers: bearer(u.token) })
  t.equal(whoami.statusCode, 200)
  t.equal(whoami.json().session.expiresAt, new Date(clock.now() + 7 * DAY).toISOString(), 'whoami slid the expiry')
  t.notOk(whoami.headers['set-cookie'], 'sliding needs no new cookie')

  // validate with extend=false does not slide
  clock.advance(6 * DAY)
  const peek = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token, extend: false } })
  t.equal(peek.statusCode, 200)
  clock.advance(1 * DAY + 1)
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })).statusCode, 401, 'idle expiry after 7 days without a sliding request')

  const v = await register(app)
  for (let day = 5; day < 30; day += 5) {
    clock.advance(5 * DAY)
    t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: v.token } })).statusCode, 200, `day ${day}`)
  }
  clock.advance(5 * DAY) // day 30: absolute lifetime reached although used every 5 days
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: v.token } })).statusCode, 401, 'absolute expiry')
})

t.test('cookie settings: COOKIE_SECURE=false uses `session`, custom name and SameSite', async (t) => {
  const app = await build(t, { COOKIE_SECURE: 'false', COOKIE_SAMESITE: 'strict' })
  const u = await register(app)
  t.match(u.cookie, /^session=/)
  const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: u.email, password: u.password } })
  const c = res.cookies.find((c) => c.name === 'session')
  t.equal(c?.secure, undefined)
  t.equal(c?.sameSite, 'Strict')
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: { cookie: u.cookie } })).statusCode, 200)
})
