import t from 'tap'
import { userTag } from '../../src/sessions/token.js'
import { bearer, build, login, PASSWORD, register, RUN_PREFIX, uniqueEmail } from '../helper.js'

const TOKEN = 'admin-token-0123456789abcdef'
const NEXT = 'rotated-admin-token-fedcba9876543210'
const admin = bearer(TOKEN)
const sessionKey = (id: string) => `${RUN_PREFIX}s:{${id.slice(0, 12)}}${id.slice(12)}`
const indexKey = (userId: string) => `${RUN_PREFIX}u:{${userTag(userId)}}${userId}`

t.test('without ADMIN_TOKEN the admin API does not exist', async (t) => {
  const app = await build(t)
  for (const [method, url] of [['GET', '/admin/v1/users?email=a@b.c'], ['POST', '/admin/v1/users'], ['DELETE', '/admin/v1/sessions/x']] as const) {
    const res = await app.inject({ method, url, headers: admin })
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.equal(res.json().code, 'NOT_FOUND')
  }
  const spec = (await app.inject({ url: '/openapi.json' })).json()
  t.notOk(Object.keys(spec.paths).some((p) => p.startsWith('/admin')), 'nor is it in the OpenAPI document')
})

t.test('admin token: missing or wrong → 401; any of the configured tokens works', async (t) => {
  const app = await build(t, { ADMIN_TOKEN: `${TOKEN}, ${NEXT}` })
  const u = await register(app)
  const url = `/admin/v1/users/${u.body.user.id}`
  for (const [name, headers] of [
    ['no header', {}],
    ['wrong token', bearer('admin-token-0123456789abcdeX')],
    ['prefix of a token', bearer(TOKEN.slice(0, 20))],
    ['both tokens joined', bearer(`${TOKEN},${NEXT}`)],
    ['a session token', bearer(u.token)],
    ['basic auth', { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
    ['session cookie', { cookie: u.cookie }]
  ] as const) {
    const res = await app.inject({ url, headers })
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().code, 'ADMIN_UNAUTHORIZED', name)
    t.match(res.headers['www-authenticate'], /^Bearer/)
  }
  t.equal((await app.inject({ url, headers: bearer(TOKEN) })).statusCode, 200, 'first token')
  t.equal((await app.inject({ url, headers: bearer(NEXT) })).statusCode, 200, 'rotated token')
  const unknownRoute = await app.inject({ url: '/admin/v1/nothing-here', headers: admin })
  t.equal(unknownRoute.statusCode, 404)
  const { loadConfig } = await import('../../src/config.js')
  t.throws(() => loadConfig({ ADMIN_TOKEN: 'short' }), /ADMIN_TOKEN/, 'tokens shorter than 16 characters are refused at start')
  t.throws(() => loadConfig({ ADMIN_TOKEN: `${TOKEN},short` }), /ADMIN_TOKEN/)
})

t.test('every admin route refuses a request without the token, and changes nothing', async (t) => {
  const app = await build(t, { ADMIN_TOKEN: TOKEN })
  const u = await register(app)
  const id = u.body.user.id
  const routes = [
    { method: 'POST' as const, url: '/admin/v1/users', payload: { email: uniqueEmail(), password: PASSWORD } },
    { method: 'GET' as const, url: `/admin/v1/users?email=${encodeURIComponent(u.email)}` },
    { method: 'GET' as const, url: `/admin/v1/users/${id}` },
    { method: 'PATCH' as const, url: `/admin/v1/users/${id}`, payload: { disabled: true } },
    { method: 'DELETE' as const, url: `/admin/v1/users/${id}` },
    { method: 'GET' as const, url: `/admin/v1/users/${id}/sessions` },
    { method: 'DELETE' as const, url: `/admin/v1/users/${id}/sessions` },
    { method: 'DELETE' as const, url: `/admin/v1/sessions/${u.body.session.id}` }
  ]
  for (const r of routes) {
    for (const headers of [{}, bearer('x'.repeat(TOKEN.length))]) {
      const res = await app.inject({ ...r, headers })
      t.equal(res.statusCode, 401, `${r.method} ${r.url.split('?')[0]}`)
      t.equal(res.json().code, 'ADMIN_UNAUTHORIZED')
    }
  }
  const who = await app.inject({ url: '/v1/sessions/current', headers: bearer(u.token) })
  t.equal(who.statusCode, 200, 'the user and the session are still there')
})

t.test('create, find by email, get', async (t) => {
  const app = await build(t, { ADMIN_TOKEN: TOKEN })
  const email = uniqueEmail('admin-made')
  const created = await app.inject({ method: 'POST', url: '/admin/v1/users', headers: admin, payload: { email, password: PASSWORD, name: 'Grace', roles: ['user', 'ops'] } })
  t.equal(created.statusCode, 201)
  const user = created.json()
  t.match(user, { email, name: 'Grace', roles: ['user', 'ops'], disabled: false })
  t.match(user.createdAt, /^\d{4}-/)
  t.match(user.passwordChangedAt, /^\d{4}-/)
  t.notOk('passwordHash' in user)
  t.notOk(created.headers['set-cookie'], 'no session is started')
  t.equal((await login(app, email)).statusCode, 201, 'the user can log in')

  const plain = await app.inject({ method: 'POST', url: '/admin/v1/users', headers: admin, payload: { email: uniqueEmail(), password: PASSWORD } })
  t.same(plain.json().roles, ['user'], 'default roles')
  t.equal(plain.json().name, null)

  const taken = await app.inject({ method: 'POST', url: '/admin/v1/users', headers: admin, payload: { email: email.toUpperCase(), password: PASSWORD } })
  t.equal(taken.statusCode, 409)
  t.equal(taken.json().code, 'EMAIL_TAKEN')
  const common = await app.inject({ method: 'POST', url: '/admin/v1/users', headers: admin, payload: { email: uniqueEmail(), password: 'password1' } })
  t.equal(common.json().code, 'PASSWORD_TOO_COMMON')
  for (const payload of [{ email: 'x', password: PASSWORD }, { email: uniqueEmail(), password: 'short' }, { email: uniqueEmail(), password: PASSWORD, roles: ['a,b'] }, { email: uniqueEmail(), password: PASSWORD, roles: 'admin' }]) {
    const bad = await app.inject({ method: 'POST', url: '/admin/v1/users', headers: admin, payload })
    t.equal(bad.statusCode, 400, JSON.stringify(payload))
    t.equal(bad.json().code, 'VALIDATION_FAILED')
  }

  const found = await app.inject({ url: `/admin/v1/users?email=${encodeURIComponent(` ${email.toUpperCase()} `)}`, headers: admin })
  t.equal(found.statusCode, 200)
  t.same(found.json(), [user], 'found case-insensitively, trimmed')
  const none = await app.inject({ url: `/admin/v1/users?email=${encodeURIComponent(uniqueEmail('nobody'))}`, headers: admin })
  t.same(none.json(), [], 'no match is an empty list')
  const noQuery = await app.inject({ url: '/admin/v1/users', headers: admin })
  t.equal(noQuery.statusCode, 400)

  const got = await app.inject({ url: `/admin/v1/users/${user.id}`, headers: admin })
  t.same(got.json(), user)
  const unknown = await app.inject({ url: '/admin/v1/users/00000000-0000-4000-8000-000000000000', headers: admin })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'USER_NOT_FOUND')
  const malformed = await app.inject({ url: '/admin/v1/users/not-a-uuid', headers: admin })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().code, 'VALIDATION_FAILED')
})

t.test('PATCH: a role or name change is seen by the very next validate, without logging in again', async (t) => {
  const app = await build(t, { ADMIN_TOKEN: TOKEN })
  const u = await register(app, { name: 'Before' })
  const second = (await login(app, u.email)).json()

  const res = await app.inject({ method: 'PATCH', url: `/admin/v1/users/${u.body.user.id}`, headers: admin, payload: { roles: ['user', 'admin'], name: 'After' } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { roles: ['user', 'admin'], name: 'After', disabled: false })
  for (const token of [u.token, second.token]) {
    const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
    t.equal(v.statusCode, 200)
    t.same(v.json().user, { id: u.body.user.id, email: u.email, name: 'After', roles: ['user', 'admin'] })
  }
  const who = await app.inject({ url: '/v1/sessions/current', headers: bearer(u.token) })
  t.same(who.json().user.roles, ['user', 'admin'])

  const demote = await app.inject({ method: 'PATCH', url: `/admin/v1/users/${u.body.user.id}`, headers: admin, payload: { roles: [] } })
  t.same(demote.json().roles, [])
  const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: second.token } })
  t.same(v.json().user.roles, [], 'removing a role takes effect as fast')

  for (const payload of [{}, { roles: ['has space'] }, { disabled: 'yes' }, { email: 'new@example.test' }]) {
    const bad = await app.inject({ method: 'PATCH', url: `/admin/v1/users/${u.body.user.id}`, headers: admin, payload })
    t.equal(bad.statusCode, 400, JSON.stringify(payload))
  }
  const unknown = await app.inject({ method: 'PATCH', url: '/admin/v1/users/00000000-0000-4000-8000-000000000000', headers: admin, payload: { name: 'x' } })
  t.equal(unknown.statusCode, 404)
  const malformed = await app.inject({ method: 'PATCH', url: '/admin/v1/users/123', headers: admin, payload: { name: 'x' } })
  t.equal(malformed.statusCode, 400)
})

t.test('PATCH disabled: every session dies at once and login fails like a wrong password; re-enabling restores login', async (t) => {
  const app = await build(t, { ADMIN_TOKEN: TOKEN })
  const u = await register(app)
  const second = (await login(app, u.email)).json()
  const wrongPassword = await login(app, u.email, 'not the password at all')

  const res = await app.inject({ method: 'PATCH', url: `/admin/v1/users/${u.body.user.id}`, headers: admin, payload: { disabled: true } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().disabled, true)

  for (const token of [u.token, second.token]) {
    t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })).statusCode, 401, 'validate')
    t.equal((await app.inject({ url: '/v1/sessions/current', headers: bearer(token) })).statusCode, 401, 'whoami')
    t.equal((await app.inject({ url: '/v1/sessions', headers: bearer(token) })).statusCode, 401, 'list')
  }
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: { cookie: u.cookie } })).statusCode, 401, 'cookie')
  const denied = await login(app, u.email)
  t.equal(denied.statusCode, 401)
  t.same(denied.json(), wrongPassword.json(), 'the same 401 as a wrong password')
  t.equal(await app.redis.exists(indexKey(u.body.user.id)), 0, 'no session index left')
  const listed = await app.inject({ url: `/admin/v1/users/${u.body.user.id}/sessions`, headers: admin })
  t.same(listed.json(), [])

  const enabled = await app.inject({ method: 'PATCH', url: `/admin/v1/users/${u.body.user.id}`, headers: admin, payload: { disabled: false } })
  t.equal(enabled.json().disabled, false)
  t.equal((await login(app, u.email)).statusCode, 201, 'login works again')
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })).statusCode, 401, 'old sessions stay dead')
})

t.test('DELETE user: sessions gone from Redis (keys checked), login fails', async (t) => {
  const app = await build(t, { ADMIN_TOKEN: TOKEN })
  const u = await register(app)
  const second = (await login(app, u.email)).json()
  const keys = [sessionKey(u.body.session.id), sessionKey(second.session.id), indexKey(u.body.user.id)]
  t.same(await Promise.all(keys.map((k) => app.redis.exists(k))), [1, 1, 1], 'keys exist before (layout as documented)')

  const res = await app.inject({ method: 'DELETE', url: `/admin/v1/users/${u.body.user.id}`, headers: admin })
  t.equal(res.statusCode, 204)
  t.same(await Promise.all(keys.map((k) => app.redis.exists(k))), [0, 0, 0], 'session keys and index deleted')
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: second.token } })).statusCode, 401)
  t.equal((await login(app, u.email)).statusCode, 401)
  t.equal((await app.inject({ url: `/admin/v1/users/${u.body.user.id}`, headers: admin })).statusCode, 404)
  const again = await app.inject({ method: 'DELETE', url: `/admin/v1/users/${u.body.user.id}`, headers: admin })
  t.equal(again.statusCode, 404)
  t.equal(again.json().code, 'USER_NOT_FOUND')
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/v1/users/zzz', headers: admin })).statusCode, 400)
  // The email is free again.
  t.equal((await app.inject({ method: 'POST', url: '/v1/users', payload: { email: u.email, password: PASSWORD } })).statusCode, 201)
})

t.test("a user's sessions: list, revoke all, revoke one by id", async (t) => {
  const app = await build(t, { ADMIN_TOKEN: TOKEN })
  const u = await register(app)
  const phone = (await login(app, u.email, PASSWORD, { 'user-agent': 'Phone/2' })).json()
  const other = await register(app)

  const list = await app.inject({ url: `/admin/v1/users/${u.body.user.id}/sessions`, headers: admin })
  t.equal(list.statusCode, 200)
  const sessions = list.json() as Array<Record<string, unknown>>
  t.same(sessions.map((s) => s.id).sort(), [u.body.session.id, phone.session.id].sort())
  t.equal(sessions.find((s) => s.id === phone.session.id)?.userAgent, 'Phone/2')
  t.notOk(sessions.some((s) => 'current' in s), 'no current flag for the admin')
  t.equal((await app.inject({ url: '/admin/v1/users/00000000-0000-4000-8000-000000000000/sessions', headers: admin })).statusCode, 404)
  t.equal((await app.inject({ url: '/admin/v1/users/nope/sessions', headers: admin })).statusCode, 400)

  const one = await app.inject({ method: 'DELETE', url: `/admin/v1/sessions/${phone.session.id}`, headers: admin })
  t.equal(one.statusCode, 204)
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: phone.token } })).statusCode, 401)
  t.equal(await app.redis.exists(sessionKey(phone.session.id)), 0)
  const gone = await app.inject({ method: 'DELETE', url: `/admin/v1/sessions/${phone.session.id}`, headers: admin })
  t.equal(gone.statusCode, 404)
  t.equal(gone.json().code, 'SESSION_NOT_FOUND')
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/v1/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAAAA', headers: admin })).statusCode, 404, 'unknown id')
  const malformed = await app.inject({ method: 'DELETE', url: '/admin/v1/sessions/short', headers: admin })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().code, 'VALIDATION_FAILED')

  const all = await app.inject({ method: 'DELETE', url: `/admin/v1/users/${u.body.user.id}/sessions`, headers: admin })
  t.same(all.json(), { revoked: 1 })
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: bearer(u.token) })).statusCode, 401)
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: bearer(other.token) })).statusCode, 200, 'other users untouched')
  t.equal((await login(app, u.email)).statusCode, 201, 'revoking sessions does not block login')
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/v1/users/00000000-0000-4000-8000-000000000000/sessions', headers: admin })).statusCode, 404)
})

t.test('admin: 1,000 sessions listed and revoked in one call each', async (t) => {
  const app = await build(t, { ADMIN_TOKEN: TOKEN })
  const u = await register(app)
  const user = { ...u.body.user, name: null, roles: ['user'] }
  for (let i = 0; i < 1000; i += 100) {
    await Promise.all(Array.from({ length: 100 }, () => app.sessions.create(user, { ip: null, userAgent: null })))
  }
  const list = await app.inject({ url: `/admin/v1/users/${u.body.user.id}/sessions`, headers: admin })
  t.equal(list.json().length, 1001)
  const patched = await app.inject({ method: 'PATCH', url: `/admin/v1/users/${u.body.user.id}`, headers: admin, payload: { roles: ['auditor'] } })
  t.equal(patched.statusCode, 200)
  t.same((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })).json().user.roles, ['auditor'])
  const all = await app.inject({ method: 'DELETE', url: `/admin/v1/users/${u.body.user.id}/sessions`, headers: admin })
  t.same(all.json(), { revoked: 1001 })
  t.equal(await app.redis.exists(indexKey(u.body.user.id)), 0)
})
