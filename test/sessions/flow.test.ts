import t from 'tap'
import { bearer, build, login, register } from '../helper.js'

t.test('register, whoami by bearer and cookie, validate, logout', async (t) => {
  const app = await build(t)
  const u = await register(app, { name: 'Ada' })
  t.notOk(JSON.stringify(u.body).includes('passwordHash'), 'no password hash in the response')
  t.equal(u.body.user.email, u.email)

  const byBearer = await app.inject({ url: '/v1/sessions/current', headers: bearer(u.token) })
  t.equal(byBearer.statusCode, 200)
  t.equal(byBearer.json().session.current, true)
  const byCookie = await app.inject({ url: '/v1/sessions/current', headers: { cookie: u.cookie } })
  t.equal(byCookie.statusCode, 200)
  t.equal(byCookie.json().user.id, u.body.user.id)

  const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })
  t.equal(v.statusCode, 200)
  t.same(v.json().user, { id: u.body.user.id, email: u.email, name: 'Ada', roles: ['user'] })
  t.notOk(v.headers['set-cookie'], 'validate sets no cookie')

  const out = await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { cookie: u.cookie } })
  t.equal(out.statusCode, 204)
  t.match(String(out.headers['set-cookie']), /__Host-session=;/)
  const after = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })
  t.equal(after.statusCode, 401)
  t.equal(after.json().code, 'SESSION_INVALID')

  const l = await login(app, u.email.toUpperCase())
  t.equal(l.statusCode, 201)
})
