import t from 'tap'
import { userTag } from '../../src/sessions/token.js'
import { bearer, build, login, register, RUN_PREFIX } from '../helper.js'

const sessionKey = (id: string) => `${RUN_PREFIX}s:{${id.slice(0, 12)}}${id.slice(12)}`
const indexKey = (userId: string) => `${RUN_PREFIX}u:{${userTag(userId)}}${userId}`

t.test('GET /v1/sessions lists my live sessions with metadata and the current flag', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const phone = await login(app, u.email, undefined, { 'user-agent': 'Phone/1.0', 'x-forwarded-for': '198.51.100.7' })
  t.equal(phone.statusCode, 201)
  const other = await register(app)

  const res = await app.inject({ url: '/v1/sessions', headers: bearer(phone.json().token) })
  t.equal(res.statusCode, 200)
  const list = res.json() as Array<Record<string, unknown>>
  t.equal(list.length, 2, 'both of my sessions, none of the other user')
  t.same(list.map((s) => s.id).sort(), [u.body.session.id, phone.json().session.id].sort())
  t.notOk(list.some((s) => s.id === other.body.session.id))
  const mine = list.find((s) => s.id === phone.json().session.id) as Record<string, unknown>
  t.equal(mine.current, true)
  t.equal(mine.userAgent, 'Phone/1.0')
  t.equal(mine.ip, '198.51.100.7', 'client ip from a trusted proxy')
  for (const key of ['createdAt', 'lastSeenAt', 'expiresAt', 'absoluteExpiresAt']) t.match(mine[key], /^\d{4}-\d\d-\d\dT/)
  t.equal(list.find((s) => s.id === u.body.session.id)?.current, false)
  t.notOk(JSON.stringify(list).includes(phone.json().token.split('.')[1]), 'no secret in the list')

  // newest first
  t.equal(list[0]?.id, phone.json().session.id)

  const byCookie = await app.inject({ url: '/v1/sessions', headers: { cookie: u.cookie } })
  t.equal(byCookie.statusCode, 200)
  t.equal((byCookie.json() as Array<{ id: string, current: boolean }>).find((s) => s.current)?.id, u.body.session.id)

  const anon = await app.inject({ url: '/v1/sessions' })
  t.equal(anon.statusCode, 401)
  t.equal(anon.json().code, 'SESSION_INVALID')
  const bad = await app.inject({ url: '/v1/sessions', headers: bearer('nonsense') })
  t.equal(bad.statusCode, 401)
})

t.test('DELETE /v1/sessions/{id}: only my own; foreign, unknown and malformed ids', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const second = (await login(app, u.email)).json()
  const other = await register(app)

  const foreign = await app.inject({ method: 'DELETE', url: `/v1/sessions/${other.body.session.id}`, headers: bearer(u.token) })
  t.equal(foreign.statusCode, 404)
  t.equal(foreign.json().code, 'SESSION_NOT_FOUND')
  const unknownId = u.body.session.id.slice(0, 12) + 'AAAAAAAAAAAAAAAA'
  const unknown = await app.inject({ method: 'DELETE', url: `/v1/sessions/${unknownId}`, headers: bearer(u.token) })
  t.equal(unknown.statusCode, 404)
  t.same(unknown.json(), foreign.json(), "someone else's id answers exactly like an unknown one")
  const otherStill = await app.inject({ url: '/v1/sessions/current', headers: bearer(other.token) })
  t.equal(otherStill.statusCode, 200, "the other user's session survived")

  const malformed = await app.inject({ method: 'DELETE', url: '/v1/sessions/not-a-session-id', headers: bearer(u.token) })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().code, 'VALIDATION_FAILED')

  const anon = await app.inject({ method: 'DELETE', url: `/v1/sessions/${second.session.id}` })
  t.equal(anon.statusCode, 401)

  const ok = await app.inject({ method: 'DELETE', url: `/v1/sessions/${second.session.id}`, headers: bearer(u.token) })
  t.equal(ok.statusCode, 204)
  t.notOk(ok.headers['set-cookie'], 'revoking another of my sessions leaves my cookie alone')
  const dead = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: second.token } })
  t.equal(dead.statusCode, 401)
  const again = await app.inject({ method: 'DELETE', url: `/v1/sessions/${second.session.id}`, headers: bearer(u.token) })
  t.equal(again.statusCode, 404, 'already revoked')

  const self = await app.inject({ method: 'DELETE', url: `/v1/sessions/${u.body.session.id}`, headers: { cookie: u.cookie } })
  t.equal(self.statusCode, 204)
  t.match(String(self.headers['set-cookie']), /__Host-session=;/, 'revoking the current session clears the cookie')
  const me = await app.inject({ url: '/v1/sessions/current', headers: bearer(u.token) })
  t.equal(me.statusCode, 401)
})

t.test('DELETE /v1/sessions?scope=others keeps exactly the current one; scope=all ends them all', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const tokens = [u.token]
  for (let i = 0; i < 3; i++) tokens.push((await login(app, u.email)).json().token)
  const other = await register(app)

  const missing = await app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(u.token) })
  t.equal(missing.statusCode, 400, 'scope is required')
  t.equal(missing.json().code, 'VALIDATION_FAILED')
  const wrong = await app.inject({ method: 'DELETE', url: '/v1/sessions?scope=everything', headers: bearer(u.token) })
  t.equal(wrong.statusCode, 400)
  const anon = await app.inject({ method: 'DELETE', url: '/v1/sessions?scope=all' })
  t.equal(anon.statusCode, 401)

  const res = await app.inject({ method: 'DELETE', url: '/v1/sessions?scope=others', headers: bearer(tokens[2] as string) })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { revoked: 3 })
  for (const [i, token] of tokens.entries()) {
    const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
    t.equal(v.statusCode, i === 2 ? 200 : 401, `session ${i}`)
  }
  const list = (await app.inject({ url: '/v1/sessions', headers: bearer(tokens[2] as string) })).json()
  t.equal(list.length, 1)
  t.equal(list[0].current, true)
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: bearer(other.token) })).statusCode, 200, 'other users untouched')

  const again = await app.inject({ method: 'DELETE', url: '/v1/sessions?scope=others', headers: bearer(tokens[2] as string) })
  t.same(again.json(), { revoked: 0 })

  const fresh = (await login(app, u.email)).json()
  const cookie = `__Host-session=${fresh.token}`
  const all = await app.inject({ method: 'DELETE', url: '/v1/sessions?scope=all', headers: { cookie } })
  t.equal(all.statusCode, 200)
  t.same(all.json(), { revoked: 2 })
  t.match(String(all.headers['set-cookie']), /__Host-session=;/, 'scope=all clears the cookie')
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: bearer(tokens[2] as string) })).statusCode, 401)
  t.equal((await app.inject({ url: '/v1/sessions/current', headers: { cookie } })).statusCode, 401)
  t.equal(await app.redis.exists(indexKey(u.body.user.id)), 0, 'the index is gone with the last session')
})

t.test('1,000 sessions of one user: listed and revoked in one call each', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const user = { ...u.body.user, name: null, roles: ['user'] }
  const created: string[] = []
  for (let i = 0; i < 1000; i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, (_, j) =>
      app.sessions.create(user, { ip: '192.0.2.1', userAgent: `bulk/${i + j}` })))
    created.push(...batch.map((b) => b.session.id))
  }

  const list = await app.inject({ url: '/v1/sessions', headers: bearer(u.token) })
  t.equal(list.statusCode, 200)
  const sessions = list.json() as Array<{ id: string, current: boolean }>
  t.equal(sessions.length, 1001)
  t.equal(sessions.filter((s) => s.current).length, 1)
  t.equal(new Set(sessions.map((s) => s.id)).size, 1001, 'no duplicates')

  const res = await app.inject({ method: 'DELETE', url: '/v1/sessions?scope=others', headers: bearer(u.token) })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { revoked: 1000 })
  const left = await Promise.all(created.slice(0, 50).concat(created.slice(-50)).map((id) => app.redis.exists(sessionKey(id))))
  t.same(left.filter((n) => n !== 0), [], 'session keys gone from Redis')
  t.equal(await app.redis.zcard(indexKey(u.body.user.id)), 1, 'only the current session left in the index')
  const after = await app.inject({ url: '/v1/sessions', headers: bearer(u.token) })
  t.equal(after.json().length, 1)
})

t.test('embedded session store: the same endpoints behave the same', async (t) => {
  const app = await build(t, { REDIS_URL: undefined, ADMIN_TOKEN: 'embedded-admin-token-0123456789' })
  t.equal(app.sessions.kind, 'memory')
  const u = await register(app)
  const second = (await login(app, u.email)).json()
  const other = await register(app)
  t.equal((await app.inject({ url: '/v1/sessions', headers: bearer(u.token) })).json().length, 2)
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/sessions/${other.body.session.id}`, headers: bearer(u.token) })).statusCode, 404)
  t.same((await app.inject({ method: 'DELETE', url: '/v1/sessions?scope=others', headers: bearer(u.token) })).json(), { revoked: 1 })
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: second.token } })).statusCode, 401)
  const admin = bearer('embedded-admin-token-0123456789')
  const patched = await app.inject({ method: 'PATCH', url: `/admin/v1/users/${u.body.user.id}`, headers: admin, payload: { roles: ['x'] } })
  t.equal(patched.statusCode, 200)
  t.same((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })).json().user.roles, ['x'])
  await app.inject({ method: 'PATCH', url: `/admin/v1/users/${u.body.user.id}`, headers: admin, payload: { disabled: true } })
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })).statusCode, 401)
})
