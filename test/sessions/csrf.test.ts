import t from 'tap'
import { bearer, build, register } from '../helper.js'

// Every inject call is "sent" to Host localhost:80 unless a host header is given.
t.test('cookie-authenticated state changes: Origin / Sec-Fetch-Site decide', async (t) => {
  const app = await build(t, { ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173' })
  const u = await register(app)
  const tryPatch = (headers: Record<string, string>) =>
    app.inject({ method: 'PATCH', url: '/v1/users/me', headers: { cookie: u.cookie, host: 'auth.example.com', ...headers }, payload: { name: 'n' } })

  const cases: Array<[string, Record<string, string>, number]> = [
    ['same origin (Origin host = Host)', { origin: 'https://auth.example.com' }, 200],
    ['same origin, Host with the default port', { origin: 'https://auth.example.com', host: 'auth.example.com:443' }, 200],
    ['allowed origin', { origin: 'https://app.example.com' }, 200],
    ['allowed origin, written with its default port', { origin: 'https://APP.example.com:443' }, 200],
    ['allowed dev origin with port', { origin: 'http://localhost:5173' }, 200],
    ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }, 200],
    ['no Origin, no Sec-Fetch-Site (non-browser client)', {}, 200],
    ['cross-site Origin', { origin: 'https://evil.example' }, 403],
    ['allowed host, other port', { origin: 'https://app.example.com:8443' }, 403],
    ['allowed host, other scheme', { origin: 'http://app.example.com' }, 403],
    ['sibling subdomain', { origin: 'https://evil.auth.example.com' }, 403],
    ['Origin: null', { origin: 'null' }, 403],
    ['cross-site Origin even with Sec-Fetch-Site: same-site', { origin: 'https://evil.example', 'sec-fetch-site': 'same-site' }, 403],
    ['Sec-Fetch-Site: cross-site, no Origin', { 'sec-fetch-site': 'cross-site' }, 403],
    ['Sec-Fetch-Site: same-site, no Origin', { 'sec-fetch-site': 'same-site' }, 403]
  ]
  for (const [name, headers, status] of cases) {
    const res = await tryPatch(headers)
    t.equal(res.statusCode, status, name)
    if (status === 403) {
      t.equal(res.json().code, 'CSRF_REJECTED', name)
    }
  }

  // Bearer requests are exempt, whatever the Origin: a page cannot attach the header by itself.
  const viaBearer = await app.inject({ method: 'PATCH', url: '/v1/users/me', headers: { ...bearer(u.token), origin: 'https://evil.example' }, payload: { name: 'b' } })
  t.equal(viaBearer.statusCode, 200, 'bearer is exempt')
  // GET is not state-changing.
  const read = await app.inject({ url: '/v1/sessions', headers: { cookie: u.cookie, origin: 'https://evil.example' } })
  t.equal(read.statusCode, 200, 'reads are not checked')
})

t.test('every cookie-authenticated state-changing route is guarded', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const other = await register(app)
  const evil = { cookie: u.cookie, origin: 'https://evil.example' }
  const requests = [
    { method: 'DELETE' as const, url: '/v1/sessions/current' },
    { method: 'DELETE' as const, url: `/v1/sessions/${u.body.session.id}` },
    { method: 'DELETE' as const, url: '/v1/sessions?scope=all' },
    { method: 'PATCH' as const, url: '/v1/users/me', payload: { name: 'x' } },
    { method: 'POST' as const, url: '/v1/users/me/password', payload: { currentPassword: 'correct horse battery staple', newPassword: 'another long passphrase' } }
  ]
  for (const r of requests) {
    const res = await app.inject({ ...r, headers: evil })
    t.equal(res.statusCode, 403, `${r.method} ${r.url}`)
    t.equal(res.json().code, 'CSRF_REJECTED')
  }
  const still = await app.inject({ url: '/v1/sessions/current', headers: { cookie: u.cookie } })
  t.equal(still.statusCode, 200, 'nothing was revoked')
  t.equal(still.json().user.name, null, 'nothing was changed')

  // Default (ALLOWED_ORIGINS empty): only the service's own origin.
  const own = await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { cookie: other.cookie, origin: 'http://localhost' } })
  t.equal(own.statusCode, 204, 'same origin is accepted by default')
})

t.test('X-Forwarded-Host counts only from a trusted proxy', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const headers = { cookie: u.cookie, host: 'sessiond:3000', 'x-forwarded-host': 'auth.example.com', origin: 'https://auth.example.com' }
  const untrusted = await app.inject({ method: 'PATCH', url: '/v1/users/me', headers, remoteAddress: '203.0.113.9', payload: { name: 'a' } })
  t.equal(untrusted.statusCode, 403, 'from an untrusted peer X-Forwarded-Host is ignored')
  const trusted = await app.inject({ method: 'PATCH', url: '/v1/users/me', headers, remoteAddress: '127.0.0.1', payload: { name: 'a' } })
  t.equal(trusted.statusCode, 200, 'from a trusted proxy (loopback by default) it is the host')
})

t.test('with SameSite=None a cookie request must name its origin', async (t) => {
  const app = await build(t, { COOKIE_SAMESITE: 'none' })
  const u = await register(app)
  const bare = await app.inject({ method: 'PATCH', url: '/v1/users/me', headers: { cookie: u.cookie }, payload: { name: 'a' } })
  t.equal(bare.statusCode, 403)
  t.equal(bare.json().code, 'CSRF_REJECTED')
  const named = await app.inject({ method: 'PATCH', url: '/v1/users/me', headers: { cookie: u.cookie, 'sec-fetch-site': 'same-origin' }, payload: { name: 'a' } })
  t.equal(named.statusCode, 200)
  const viaBearer = await app.inject({ method: 'PATCH', url: '/v1/users/me', headers: bearer(u.token), payload: { name: 'a' } })
  t.equal(viaBearer.statusCode, 200)
})

t.test('ALLOWED_ORIGINS is validated at start', async (t) => {
  const { loadConfig } = await import('../../src/config.js')
  t.throws(() => loadConfig({ ALLOWED_ORIGINS: 'app.example.com' }), /ALLOWED_ORIGINS/)
  t.throws(() => loadConfig({ ALLOWED_ORIGINS: 'https://app.example.com/path' }), /ALLOWED_ORIGINS/)
  t.doesNotThrow(() => loadConfig({ ALLOWED_ORIGINS: 'https://a.example.com,http://localhost:5173' }))
})
