import t from 'tap'
import type { InjectOptions } from 'fastify'
import { build, PASSWORD, register, uniqueEmail } from '../helper.js'

t.test('registration returns the user, a session, a token and a cookie; never the hash', async (t) => {
  const app = await build(t)
  const email = uniqueEmail('reg')
  const res = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: `  ${email}  `, password: PASSWORD, name: 'Grace' } })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.equal(body.user.email, email, 'stored trimmed')
  t.equal(body.user.name, 'Grace')
  t.same(body.user.roles, ['user'])
  t.match(body.token, /^[A-Za-z0-9_-]{28}\.[A-Za-z0-9_-]{43}$/)
  t.equal(body.session.current, true)
  t.notMatch(res.body, /passwordHash|password_hash|argon2/i, 'no hash anywhere in the body')
  const cookie = res.cookies.find((c) => c.name === '__Host-session')
  t.ok(cookie, 'sets the __Host- cookie')
  t.equal(cookie?.value, body.token)
  t.equal(cookie?.httpOnly, true)
  t.equal(cookie?.secure, true)
  t.equal(cookie?.sameSite, 'Lax')
  t.equal(cookie?.path, '/')
})

t.test('the same email in another case is taken (409)', async (t) => {
  const app = await build(t)
  const { email } = await register(app)
  const res = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: email.toUpperCase(), password: PASSWORD } })
  t.equal(res.statusCode, 409)
  t.same(res.json(), { statusCode: 409, code: 'EMAIL_TAKEN', error: 'Conflict', message: 'an account with this email already exists' })
  t.notOk(res.headers['set-cookie'])
})

t.test('short, long and common passwords are refused', async (t) => {
  const app = await build(t)
  const short = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: uniqueEmail(), password: 'short7!' } })
  t.equal(short.statusCode, 400)
  t.equal(short.json().code, 'VALIDATION_FAILED')
  t.match(short.json().message, /password/)
  const long = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: uniqueEmail(), password: 'x'.repeat(257) } })
  t.equal(long.statusCode, 400)
  t.equal(long.json().code, 'VALIDATION_FAILED')
  for (const common of ['password1', 'Password123', 'qwertyuiop', '12345678']) {
    const res = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: uniqueEmail(), password: common } })
    t.equal(res.statusCode, 400, common)
    t.equal(res.json().code, 'PASSWORD_TOO_COMMON', common)
  }
  const unicode = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: uniqueEmail(), password: 'ünïcødé-paß-wörd-☃' } })
  t.equal(unicode.statusCode, 201, 'no composition rules; unicode is fine')
})

t.test('bad bodies get a 4xx with a code, never a 500', async (t) => {
  const app = await build(t)
  const cases: Array<[string, InjectOptions, number, string]> = [
    ['missing fields', { method: 'POST', url: '/v1/users', payload: {} }, 400, 'VALIDATION_FAILED'],
    ['missing password', { method: 'POST', url: '/v1/users', payload: { email: uniqueEmail() } }, 400, 'VALIDATION_FAILED'],
    ['wrong types', { method: 'POST', url: '/v1/users', payload: { email: 42, password: 12345678901 } }, 400, 'VALIDATION_FAILED'],
    ['name too long', { method: 'POST', url: '/v1/users', payload: { email: uniqueEmail(), password: PASSWORD, name: 'n'.repeat(201) } }, 400, 'VALIDATION_FAILED'],
    ['not an email', { method: 'POST', url: '/v1/users', payload: { email: 'not an email', password: PASSWORD } }, 400, 'VALIDATION_FAILED'],
    ['array body', { method: 'POST', url: '/v1/users', payload: '[1,2]', headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_FAILED'],
    ['non-JSON', { method: 'POST', url: '/v1/users', payload: '{"email":', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON'],
    ['empty JSON body', { method: 'POST', url: '/v1/users', payload: '', headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_FAILED'],
    ['wrong content type', { method: 'POST', url: '/v1/users', payload: 'email=a@b.c', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['oversized', { method: 'POST', url: '/v1/users', payload: { email: uniqueEmail(), password: PASSWORD, name: 'x'.repeat(20_000) } }, 413, 'BODY_TOO_LARGE'],
    ['NUL bytes', { method: 'POST', url: '/v1/users', payload: { email: 'a\u0000@b.c', password: 'pass\u0000word-long-enough' } }, 400, 'VALIDATION_FAILED'],
    ['unknown route', { method: 'GET', url: '/v1/nothing-here' }, 404, 'NOT_FOUND']
  ]
  for (const [label, req, status, code] of cases) {
    const res = await app.inject(req)
    t.equal(res.statusCode, status, `${label}: status`)
    t.equal(res.json().code, code, `${label}: code`)
    t.equal(res.json().statusCode, status, `${label}: one error shape`)
  }
})

t.test('NUL byte in a name is stored or refused, never a 500', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: uniqueEmail(), password: PASSWORD, name: 'nul\u0000name' } })
  t.ok(res.statusCode < 500, `status ${res.statusCode}`)
})

t.test('registration can be closed', async (t) => {
  const app = await build(t, { ALLOW_REGISTRATION: 'false' })
  const res = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: uniqueEmail(), password: PASSWORD } })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'REGISTRATION_CLOSED')
})
