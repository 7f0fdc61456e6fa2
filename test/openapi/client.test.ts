import createClient from 'openapi-fetch'
import t from 'tap'
import type { paths } from '../../openapi/schema.js'
import { build, PASSWORD, uniqueEmail } from '../helper.js'

/**
 * Another internal service using sessiond through the client generated from openapi/openapi.json
 * (openapi-typescript types + openapi-fetch), over real HTTP. The request and response types come
 * from the document, so if a route and the committed document drift apart this file stops compiling
 * (`npm run typecheck`) or these assertions fail.
 */
t.test('a service logs in, validates tokens, lists and revokes sessions, and logs out through the generated client', async (t) => {
  const app = await build(t)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const client = createClient<paths>({ baseUrl: address })

  const email = uniqueEmail('client')
  const registered = await client.POST('/v1/users', { body: { email, password: PASSWORD, name: 'Grace' } })
  t.equal(registered.response.status, 201)
  if (registered.data === undefined) throw new Error(`register failed: ${JSON.stringify(registered.error)}`)
  t.equal(registered.data.user.email, email)

  const duplicate = await client.POST('/v1/users', { body: { email, password: PASSWORD } })
  t.equal(duplicate.response.status, 409)
  t.equal(duplicate.error?.code, 'EMAIL_TAKEN')

  const wrong = await client.POST('/v1/sessions', { body: { email, password: 'not the password' } })
  t.equal(wrong.response.status, 401)
  t.equal(wrong.error?.code, 'INVALID_CREDENTIALS')

  const login = await client.POST('/v1/sessions', { body: { email, password: PASSWORD } })
  t.equal(login.response.status, 201)
  if (login.data === undefined) throw new Error('login failed')
  const { token } = login.data
  t.match(token, /^[^.]+\.[^.]+$/, 'token is <id>.<secret>')
  t.match(login.response.headers.get('set-cookie'), /^__Host-session=[^;]+;.*HttpOnly/i, 'the documented Set-Cookie')

  const validated = await client.POST('/v1/sessions/validate', { body: { token, extend: false } })
  t.equal(validated.response.status, 200)
  t.same(validated.data?.user, registered.data.user, 'validate names the same user')
  t.equal(validated.data?.session.id, login.data.session.id)
  t.equal(validated.response.headers.get('set-cookie'), null, 'validate sets no cookie')

  const me = await client.GET('/v1/sessions/current', { headers: { authorization: `Bearer ${token}` } })
  t.equal(me.response.status, 200)
  t.equal(me.data?.session.current, true)

  // Sessions of this user: the one from registration and the one from login.
  const auth = { authorization: `Bearer ${token}` }
  const listed = await client.GET('/v1/sessions', { headers: auth })
  t.equal(listed.response.status, 200)
  const sessions = listed.data ?? []
  t.same(sessions.map((s) => s.id).sort(), [registered.data.session.id, login.data.session.id].sort())
  t.same(sessions.filter((s) => s.current).map((s) => s.id), [login.data.session.id], 'current marks this one')

  const revoked = await client.DELETE('/v1/sessions/{id}', { params: { path: { id: registered.data.session.id } }, headers: auth })
  t.equal(revoked.response.status, 204)
  const gone = await client.POST('/v1/sessions/validate', { body: { token: registered.data.token } })
  t.equal(gone.error?.code, 'SESSION_INVALID', 'the revoked session no longer validates')
  const again = await client.DELETE('/v1/sessions/{id}', { params: { path: { id: registered.data.session.id } }, headers: auth })
  t.equal(again.response.status, 404)
  t.equal(again.error?.code, 'SESSION_NOT_FOUND')
  const after2 = await client.GET('/v1/sessions', { headers: auth })
  t.same(after2.data?.map((s) => s.id), [login.data.session.id])

  const others = await client.DELETE('/v1/sessions', { params: { query: { scope: 'others' } }, headers: auth })
  t.equal(others.response.status, 200)
  t.equal(others.data?.revoked, 0, 'no other session left')

  const logout = await client.DELETE('/v1/sessions/current', { headers: auth })
  t.equal(logout.response.status, 204)

  const after = await client.POST('/v1/sessions/validate', { body: { token } })
  t.equal(after.response.status, 401)
  t.equal(after.error?.code, 'SESSION_INVALID')

  const garbage = await client.POST('/v1/sessions/validate', { body: { token: 'not-a-token' } })
  t.equal(garbage.error?.code, 'SESSION_INVALID')
})
