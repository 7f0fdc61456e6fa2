import { createServer } from 'node:net'
import t from 'tap'
import { bearer, build, register, testClock } from '../helper.js'

const LOGIN_URL = 'https://login.example.test/signin?app=demo'
const FORWARDED = {
  'x-forwarded-method': 'GET',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'app.example.test',
  'x-forwarded-uri': '/reports/2026?q=a%20b'
}
const ORIGINAL_URL = 'https://app.example.test/reports/2026?q=a%20b'
const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'

async function giveRoles (app: Awaited<ReturnType<typeof build>>, userId: string, roles: string[]) {
  const row = await app.users.update(userId, { roles })
  if (row === null) throw new Error('no such user')
  await app.sessions.updateUser({ id: row.id, email: row.email, name: row.name, roles: row.roles })
}

t.test('allowed: empty 200 with X-Auth-* identity headers, by bearer or cookie, no cookie set', async (t) => {
  const app = await build(t)
  const u = await register(app, { name: 'Ada Lovelace' })
  for (const headers of [bearer(u.token), { cookie: u.cookie }]) {
    const res = await app.inject({ url: '/v1/auth/forward', headers })
    t.equal(res.statusCode, 200)
    t.equal(res.body, '', 'empty body')
    t.equal(res.headers['x-auth-user-id'], u.body.user.id)
    t.equal(res.headers['x-auth-user-email'], u.email)
    t.equal(res.headers['x-auth-user-name'], 'Ada Lovelace')
    t.equal(res.headers['x-auth-user-roles'], 'user')
    t.equal(res.headers['x-auth-session-id'], u.body.session.id)
    t.equal(res.headers['cache-control'], 'no-store')
    t.notOk(res.headers['set-cookie'], 'forward-auth never sets a cookie')
    t.notOk(res.headers['remote-user'], 'only one header profile')
  }
  const head = await app.inject({ method: 'HEAD', url: '/v1/auth/forward', headers: bearer(u.token) })
  t.equal(head.statusCode, 200, 'HEAD works too')
  t.equal(head.headers['x-auth-user-id'], u.body.user.id)
})

t.test('no name, no roles: the headers are still sent, empty, so a gateway overwrites forged copies', async (t) => {
  const app = await build(t)
  const u = await register(app)
  await app.sessions.updateUser({ id: u.body.user.id, email: u.email, name: null, roles: [] })
  for (const url of ['/v1/auth/forward', '/v1/auth/request']) {
    const res = await app.inject({ url, headers: bearer(u.token) })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['x-auth-user-name'], '', 'empty name header')
    t.equal(res.headers['x-auth-user-roles'], '', 'empty roles header')
    t.equal(res.headers['x-auth-user-id'], u.body.user.id)
  }
})

t.test('FORWARD_AUTH_HEADERS=remote sends the Remote-* set instead', async (t) => {
  const app = await build(t, { FORWARD_AUTH_HEADERS: 'remote' })
  const u = await register(app, { name: 'Grace' })
  await giveRoles(app, u.body.user.id, ['user', 'admin'])
  for (const url of ['/v1/auth/forward', '/v1/auth/request']) {
    const res = await app.inject({ url, headers: bearer(u.token) })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['remote-user'], u.body.user.id, 'Remote-User is the stable user id')
    t.equal(res.headers['remote-email'], u.email)
    t.equal(res.headers['remote-name'], 'Grace')
    t.equal(res.headers['remote-groups'], 'user,admin')
    t.notOk(Object.keys(res.headers).some((h) => h.startsWith('x-auth-')), 'no X-Auth-* headers')
  }
})

t.test('hostile names and roles cannot split or break the response', async (t) => {
  const app = await build(t)
  // The API refuses control characters in names; the encoding must hold anyway for whatever reaches
  // a session snapshot (older rows, direct database edits), so write one straight into the store.
  const name = 'Eve\r\nX-Auth-User-Id: 00000000-0000-0000-0000-000000000000\r\n\r\n李雷 Zoë 100% \u0007\u007f\ud800'
  const u = await register(app, { name: '李雷 Zoë' })
  const plain = await app.inject({ url: '/v1/auth/forward', headers: bearer(u.token) })
  t.equal(plain.headers['x-auth-user-name'], '%E6%9D%8E%E9%9B%B7 Zo%C3%AB', 'non-ASCII names are percent-encoded UTF-8')
  await app.sessions.updateUser({ id: u.body.user.id, email: u.email, name, roles: ['user', 'a,b', 'ops'] })
  const res = await app.inject({ url: '/v1/auth/forward', headers: bearer(u.token) })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['x-auth-user-id'], u.body.user.id, 'the injected id did not become a header')
  const sent = res.headers['x-auth-user-name'] as string
  t.match(sent, /^[\x20-\x7e]+$/, 'printable ASCII only on the wire')
  t.equal(decodeURIComponent(sent), name.replace('\ud800', '\ufffd'), 'decodeURIComponent gives the name back (a lone surrogate as U+FFFD)')
  t.equal(res.headers['x-auth-user-roles'], 'user,a%2Cb,ops', 'a comma inside a role is encoded')
  t.same((res.headers['x-auth-user-roles'] as string).split(',').map(decodeURIComponent), ['user', 'a,b', 'ops'])
})

t.test('the session slides as validate does', async (t) => {
  const clock = testClock()
  const app = await build(t, {}, { clock })
  const u = await register(app)
  const before = await app.sessions.get(u.body.session.id)
  clock.advance(3 * 3600_000)
  const res = await app.inject({ url: '/v1/auth/forward', headers: bearer(u.token) })
  t.equal(res.statusCode, 200)
  const after = await app.sessions.get(u.body.session.id)
  t.ok(before && after)
  t.equal(after?.lastSeenAt, clock.now(), 'last seen now')
  t.equal(after?.expiresAt, clock.now() + 7 * 24 * 3600_000, 'idle expiry pushed out')
  t.ok((after?.expiresAt ?? 0) > (before?.expiresAt ?? 0))

  // Idle for longer than SESSION_IDLE_TTL: expired, for both endpoints.
  clock.advance(7 * 24 * 3600_000 + 1000)
  const expired = await app.inject({ url: '/v1/auth/forward', headers: bearer(u.token) })
  t.equal(expired.statusCode, 401)
  t.equal(expired.json().code, 'SESSION_INVALID')
  const expiredRequest = await app.inject({ url: '/v1/auth/request', headers: bearer(u.token) })
  t.equal(expiredRequest.statusCode, 401)
})

t.test('not authenticated on /v1/auth/forward: 401 JSON for API callers', async (t) => {
  const app = await build(t, { LOGIN_URL })
  const u = await register(app)
  const cases: Array<[string, Record<string, string>]> = [
    ['no credential', {}],
    ['malformed bearer', bearer('nonsense')],
    ['wrong secret', bearer(`${u.token.split('.')[0]}.${'A'.repeat(43)}`)],
    ['unknown cookie', { cookie: '__Host-session=abc.def' }],
    ['JSON client with a dead token', { ...bearer('x.y'), accept: 'application/json' }]
  ]
  for (const [label, headers] of cases) {
    const res = await app.inject({ url: '/v1/auth/forward', headers: { ...headers, ...FORWARDED } })
    t.equal(res.statusCode, 401, label)
    t.equal(res.json().code, 'SESSION_INVALID', label)
    t.notOk(res.headers.location, `${label}: no redirect`)
    t.notOk(res.headers['set-cookie'], `${label}: the cookie is not cleared`)
  }
})

t.test('not authenticated browser navigation: redirect to LOGIN_URL?rd=<original URL>', async (t) => {
  const app = await build(t, { LOGIN_URL })
  const get = await app.inject({ url: '/v1/auth/forward', headers: { accept: HTML, ...FORWARDED } })
  t.equal(get.statusCode, 302)
  const location = new URL(get.headers.location as string)
  t.equal(location.origin + location.pathname, 'https://login.example.test/signin')
  t.equal(location.searchParams.get('app'), 'demo', "LOGIN_URL's own query is kept")
  t.equal(location.searchParams.get('rd'), ORIGINAL_URL)
  t.equal(get.body, '')

  const head = await app.inject({ url: '/v1/auth/forward', headers: { accept: HTML, ...FORWARDED, 'x-forwarded-method': 'HEAD' } })
  t.equal(head.statusCode, 302, 'HEAD: 302')

  for (const method of ['POST', 'PUT', 'DELETE', 'patch']) {
    const res = await app.inject({ url: '/v1/auth/forward', headers: { accept: HTML, ...FORWARDED, 'x-forwarded-method': method } })
    t.equal(res.statusCode, 303, `${method}: 303 so the browser GETs the login page`)
    t.equal(new URL(res.headers.location as string).searchParams.get('rd'), ORIGINAL_URL)
  }

  // nginx style: X-Original-Method and X-Original-URL.
  const nginx = await app.inject({
    url: '/v1/auth/forward',
    headers: { accept: HTML, 'x-original-method': 'POST', 'x-original-url': 'http://app.example.test:8080/a/b?c=d' }
  })
  t.equal(nginx.statusCode, 303)
  t.equal(new URL(nginx.headers.location as string).searchParams.get('rd'), 'http://app.example.test:8080/a/b?c=d')

  // No proxy headers at all: still a redirect, without rd.
  const bare = await app.inject({ url: '/v1/auth/forward', headers: { accept: HTML } })
  t.equal(bare.statusCode, 302)
  t.equal(bare.headers.location, LOGIN_URL)
})

t.test('malformed original-request headers only lose the rd parameter', async (t) => {
  const app = await build(t, { LOGIN_URL })
  const bad: Array<Record<string, string>> = [
    { 'x-forwarded-host': 'evil.test@app.example.test', 'x-forwarded-uri': '/' },
    { 'x-forwarded-host': 'app.example.test', 'x-forwarded-uri': '@evil.test/' },
    { 'x-forwarded-host': 'app.example.test', 'x-forwarded-proto': 'javascript' },
    { 'x-original-url': 'javascript:alert(1)' },
    { 'x-original-url': 'http:///reports' },
    { 'x-original-url': 'https:\\\\evil.test/' },
    { 'x-forwarded-host': 'a b' }
  ]
  for (const headers of bad) {
    const res = await app.inject({ url: '/v1/auth/forward', headers: { accept: HTML, ...headers } })
    t.equal(res.statusCode, 302, JSON.stringify(headers))
    t.equal(res.headers.location, LOGIN_URL, `${JSON.stringify(headers)}: no rd`)
  }
  const weirdMethod = await app.inject({ url: '/v1/auth/forward', headers: { accept: HTML, 'x-forwarded-method': 'G E T' } })
  t.equal(weirdMethod.statusCode, 302, 'an invalid method falls back to the request method')
})

t.test('without LOGIN_URL a browser gets 401 JSON too', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/v1/auth/forward', headers: { accept: HTML, ...FORWARDED } })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'SESSION_INVALID')
  t.notOk(res.headers.location)
})

t.test('proxy headers from an untrusted peer are ignored', async (t) => {
  const app = await build(t, { LOGIN_URL })
  const remoteAddress = '203.0.113.7'
  const res = await app.inject({ url: '/v1/auth/forward', remoteAddress, headers: { accept: HTML, ...FORWARDED, 'x-forwarded-method': 'POST' } })
  t.equal(res.statusCode, 302, 'X-Forwarded-Method ignored: the request itself is a GET')
  t.equal(res.headers.location, LOGIN_URL, 'X-Forwarded-Host/-Uri ignored: no rd')
  const nginx = await app.inject({ url: '/v1/auth/request', remoteAddress, headers: { 'x-original-url': 'https://evil.test/' } })
  t.equal(nginx.statusCode, 401)
  t.equal(nginx.headers.location, LOGIN_URL)

  const trusting = await build(t, { LOGIN_URL, TRUST_PROXY: 'loopback, 203.0.113.0/24' })
  const ok = await trusting.inject({ url: '/v1/auth/forward', remoteAddress, headers: { accept: HTML, ...FORWARDED, 'x-forwarded-method': 'POST' } })
  t.equal(ok.statusCode, 303, 'a TRUST_PROXY address is believed')
  t.equal(new URL(ok.headers.location as string).searchParams.get('rd'), ORIGINAL_URL)
})

t.test('role rule: any of the listed roles, else 403 FORBIDDEN', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const ask = async (query: string, url = '/v1/auth/forward') => await app.inject({ url: `${url}${query}`, headers: bearer(u.token) })

  t.equal((await ask('?role=user')).statusCode, 200)
  const denied = await ask('?role=admin')
  t.equal(denied.statusCode, 403)
  t.equal(denied.json().code, 'FORBIDDEN')
  t.notOk(denied.headers['x-auth-user-id'], 'no identity headers on a denial')
  t.equal((await ask('?role=admin&role=user')).statusCode, 200, 'any of several')
  t.equal((await ask('?role=admin&role=ops')).statusCode, 403)

  const deniedRequest = await ask('?role=admin', '/v1/auth/request')
  t.equal(deniedRequest.statusCode, 403)
  t.equal(deniedRequest.body, '', '/v1/auth/request: no body')

  // A role change reaches live sessions at the next check.
  await giveRoles(app, u.body.user.id, ['user', 'admin'])
  const allowed = await ask('?role=admin')
  t.equal(allowed.statusCode, 200)
  t.equal(allowed.headers['x-auth-user-roles'], 'user,admin')
  t.equal((await ask('?role=admin', '/v1/auth/request')).statusCode, 200)

  // Not signed in beats the role rule: 401, not 403.
  const anon = await app.inject({ url: '/v1/auth/forward?role=admin' })
  t.equal(anon.statusCode, 401)
})

t.test('a bad role parameter is a 400', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const tooMany = Array.from({ length: 21 }, (_, i) => `role=r${i}`).join('&')
  for (const query of ['role=', `role=${'x'.repeat(101)}`, tooMany, 'role=a&role=']) {
    for (const url of ['/v1/auth/forward', '/v1/auth/request']) {
      const res = await app.inject({ url: `${url}?${query}`, headers: bearer(u.token) })
      t.equal(res.statusCode, 400, `${url}?${query.slice(0, 30)}`)
      t.equal(res.json().code, 'VALIDATION_FAILED')
    }
  }
})

t.test('/v1/auth/request: bodiless 200/401/403, Location on 401 when LOGIN_URL is set', async (t) => {
  const app = await build(t, { LOGIN_URL })
  const u = await register(app, { name: 'Linus' })
  const ok = await app.inject({ url: '/v1/auth/request', headers: { cookie: u.cookie } })
  t.equal(ok.statusCode, 200)
  t.equal(ok.body, '')
  t.equal(ok.headers['x-auth-user-id'], u.body.user.id)
  t.equal(ok.headers['x-auth-user-name'], 'Linus')
  t.notOk(ok.headers['set-cookie'])

  for (const accept of [HTML, 'application/json']) {
    const res = await app.inject({
      url: '/v1/auth/request',
      headers: { accept, 'x-original-method': 'GET', 'x-original-url': ORIGINAL_URL }
    })
    t.equal(res.statusCode, 401, accept)
    t.equal(res.body, '', 'no body')
    t.equal(new URL(res.headers.location as string).searchParams.get('rd'), ORIGINAL_URL, 'Location for error_page 401, whatever Accept says')
  }

  const plain = await build(t)
  const res = await plain.inject({ url: '/v1/auth/request', headers: { 'x-original-url': ORIGINAL_URL } })
  t.equal(res.statusCode, 401)
  t.notOk(res.headers.location, 'no LOGIN_URL, no Location')
})

t.test('logout ends access', async (t) => {
  const app = await build(t)
  const u = await register(app)
  t.equal((await app.inject({ url: '/v1/auth/request', headers: { cookie: u.cookie } })).statusCode, 200)
  await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: bearer(u.token) })
  t.equal((await app.inject({ url: '/v1/auth/request', headers: { cookie: u.cookie } })).statusCode, 401)
  t.equal((await app.inject({ url: '/v1/auth/forward', headers: { cookie: u.cookie } })).statusCode, 401)
})

async function deadPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

t.test('store outage: 503 STORE_UNAVAILABLE with Retry-After, never 200/401, cookie untouched', async (t) => {
  const live = await build(t)
  const u = await register(live)
  const app = await build(t, { REDIS_URL: `redis://127.0.0.1:${await deadPort()}`, REDIS_COMMAND_TIMEOUT_MS: '200', LOGIN_URL })
  for (const url of ['/v1/auth/forward', '/v1/auth/request', '/v1/auth/forward?role=admin']) {
    for (const headers of [bearer(u.token), { cookie: u.cookie, accept: HTML }]) {
      const res = await app.inject({ url, headers })
      t.equal(res.statusCode, 503, url)
      t.equal(res.json().code, 'STORE_UNAVAILABLE')
      t.equal(res.headers['retry-after'], '1')
      t.notOk(res.headers['set-cookie'], 'cookie neither set nor cleared')
      t.notOk(res.headers.location, 'no login redirect: the user may well be signed in')
    }
  }
})

t.test('Envoy ext_authz style: any method on /v1/auth/forward, bodies ignored, GET alone in OpenAPI', async (t) => {
  const app = await build(t, { LOGIN_URL })
  const u = await register(app)
  const bodies: Array<[string, Record<string, string>, string | undefined]> = [
    ['POST', { 'content-type': 'application/json' }, '{"any":"thing"}'],
    ['POST', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' }, undefined],
    ['PUT', { 'content-type': 'application/octet-stream' }, 'binary'],
    ['PATCH', { 'content-type': 'application/json', 'content-length': '0' }, undefined],
    ['DELETE', {}, undefined],
    ['OPTIONS', {}, undefined]
  ]
  for (const [method, headers, payload] of bodies) {
    const res = await app.inject({ method: method as 'POST', url: '/v1/auth/forward?role=user', headers: { ...headers, ...bearer(u.token) }, payload })
    t.equal(res.statusCode, 200, `${method} ${headers['content-type'] ?? ''}`)
    t.equal(res.headers['x-auth-user-id'], u.body.user.id)
  }
  const denied = await app.inject({ method: 'DELETE', url: '/v1/auth/forward?role=admin', headers: bearer(u.token) })
  t.equal(denied.statusCode, 403)
  const anon = await app.inject({ method: 'POST', url: '/v1/auth/forward', headers: { accept: HTML }, payload: 'a=1' })
  t.equal(anon.statusCode, 303, "the request's own method counts when no proxy header names one")
  const anonApi = await app.inject({ method: 'PUT', url: '/v1/auth/forward', headers: { 'content-type': 'application/json' }, payload: '{' })
  t.equal(anonApi.statusCode, 401, 'a body is never parsed, so never a 400 for it')
  t.equal(anonApi.json().code, 'SESSION_INVALID')

  const doc = app.swagger() as { paths: Record<string, Record<string, unknown>> }
  t.same(Object.keys(doc.paths['/v1/auth/forward'] ?? {}), ['get'], 'one documented operation')
  const register2 = await app.inject({ method: 'POST', url: '/v1/users', headers: { 'content-type': 'application/xml' }, payload: '<x/>' })
  t.equal(register2.statusCode, 415, "the catch-all body parser stays inside forward-auth's own scope")
})
