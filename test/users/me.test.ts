import t from 'tap'
import { bearer, build, login, PASSWORD, register } from '../helper.js'

t.test('PATCH /v1/users/me changes my name; every live session sees it at once', async (t) => {
  const app = await build(t)
  const u = await register(app, { name: 'Ada' })
  const other = (await login(app, u.email)).json()

  const res = await app.inject({ method: 'PATCH', url: '/v1/users/me', headers: bearer(u.token), payload: { name: 'Ada Lovelace' } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { id: u.body.user.id, email: u.email, name: 'Ada Lovelace', roles: ['user'] })
  const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: other.token } })
  t.equal(v.json().user.name, 'Ada Lovelace', 'another session of mine sees the new name without logging in again')

  const cleared = await app.inject({ method: 'PATCH', url: '/v1/users/me', headers: { cookie: u.cookie }, payload: { name: null } })
  t.equal(cleared.statusCode, 200)
  t.equal(cleared.json().name, null)

  for (const payload of [{}, { name: '' }, { name: 'x'.repeat(201) }, { name: 42 }]) {
    const bad = await app.inject({ method: 'PATCH', url: '/v1/users/me', headers: bearer(u.token), payload })
    t.equal(bad.statusCode, 400, JSON.stringify(payload))
    t.equal(bad.json().code, 'VALIDATION_FAILED')
  }
  const anon = await app.inject({ method: 'PATCH', url: '/v1/users/me', payload: { name: 'x' } })
  t.equal(anon.statusCode, 401)
  t.equal(anon.json().code, 'SESSION_INVALID')
})

t.test('POST /v1/users/me/password: revokes every session, rotates this one, swaps the password', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const laptop = (await login(app, u.email)).json()
  const phone = (await login(app, u.email)).json()
  const NEW = 'a much better passphrase 42'

  const res = await app.inject({
    method: 'POST',
    url: '/v1/users/me/password',
    headers: { cookie: `__Host-session=${laptop.token}` },
    payload: { currentPassword: PASSWORD, newPassword: NEW }
  })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.user.id, u.body.user.id)
  t.equal(body.session.current, true)
  t.not(body.session.id, laptop.session.id, 'a new session id')
  t.not(body.token, laptop.token)
  const cookie = res.cookies.find((c) => c.name === '__Host-session')
  t.equal(cookie?.value, body.token, 'the new token is set as the cookie')
  t.equal(cookie?.httpOnly, true)

  for (const [name, token] of [['this session (old token)', laptop.token], ['another session', phone.token], ['the registration session', u.token]]) {
    const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
    t.equal(v.statusCode, 401, `${name} is dead`)
  }
  const fresh = await app.inject({ url: '/v1/sessions/current', headers: bearer(body.token) })
  t.equal(fresh.statusCode, 200, 'the new token works')
  const sessions = await app.inject({ url: '/v1/sessions', headers: bearer(body.token) })
  t.equal(sessions.json().length, 1, 'only the new session is left')

  const oldPw = await login(app, u.email, PASSWORD)
  t.equal(oldPw.statusCode, 401, 'the old password no longer works')
  t.equal(oldPw.json().code, 'INVALID_CREDENTIALS')
  const newPw = await login(app, u.email, NEW)
  t.equal(newPw.statusCode, 201, 'the new password works')
})

t.test('POST /v1/users/me/password failures', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const other = (await login(app, u.email)).json()
  const change = (payload: unknown, headers: Record<string, string> = bearer(u.token)) =>
    app.inject({ method: 'POST', url: '/v1/users/me/password', headers, payload: payload as Record<string, unknown> })

  const wrong = await change({ currentPassword: 'not my password', newPassword: 'a much better passphrase 42' })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, 'INVALID_CREDENTIALS')
  const common = await change({ currentPassword: PASSWORD, newPassword: 'password123' })
  t.equal(common.statusCode, 400)
  t.equal(common.json().code, 'PASSWORD_TOO_COMMON')
  const short = await change({ currentPassword: PASSWORD, newPassword: 'short' })
  t.equal(short.statusCode, 400)
  t.equal(short.json().code, 'VALIDATION_FAILED')
  t.match(short.json().message, /newPassword/)
  const missing = await change({ newPassword: 'a much better passphrase 42' })
  t.equal(missing.statusCode, 400)
  const anon = await change({ currentPassword: PASSWORD, newPassword: 'a much better passphrase 42' }, {})
  t.equal(anon.statusCode, 401)
  t.equal(anon.json().code, 'SESSION_INVALID')

  for (const token of [u.token, other.token]) {
    const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
    t.equal(v.statusCode, 200, 'failed attempts revoke nothing')
  }
  t.equal((await login(app, u.email)).statusCode, 201, 'and leave the password as it was')
})
