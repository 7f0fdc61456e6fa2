import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { build, register } from '../helper.js'
import { echoUpstream } from './gateway.js'
import { findNginx, send, startNginx } from './nginx.js'

const LOGIN_URL = 'https://login.example.test/signin'
const nginx = findNginx()

if (nginx === null) {
  // CI installs nginx (.ci/run): there, a missing nginx is a failure, not a reason to skip.
  if (process.env.CI === 'true' || process.env.CI === '1') t.fail('nginx is not installed (apt-get install -y nginx)')
  else t.test('real nginx', { skip: 'nginx is not installed; the real-nginx forward-auth test needs it' }, () => {})
} else {
  t.test('examples/nginx.conf in a real nginx, in front of an upstream that echoes its headers', async (t) => {
    const app = await build(t, { LOGIN_URL })
    await app.listen({ host: '127.0.0.1', port: 0 })

    const { port: upstreamPort, seen } = await echoUpstream(t)

    const proxy = await startNginx(nginx, {
      sessiond: (app.server.address() as AddressInfo).port,
      app: upstreamPort
    })
    t.teardown(() => proxy.stop())
    const base = `http://127.0.0.1:${proxy.port}`

    const forged = {
      'x-auth-user-id': '00000000-0000-0000-0000-000000000000',
      'x-auth-user-roles': 'admin',
      'x-auth-user-email': 'root@example.test',
      'remote-user': 'root',
      'remote-groups': 'admin'
    }

    t.test('no session: 401 for API callers, login redirect for browsers, upstream never reached', async (t) => {
      const api = await send(proxy.port, '/reports?x=1', { headers: { accept: 'application/json', ...forged } })
      t.equal(api.status, 401)
      t.notOk(api.headers.location)

      const browser = await send(proxy.port, '/reports?x=1', { headers: { accept: 'text/html' } })
      t.equal(browser.status, 302)
      const location = new URL(browser.headers.location as string)
      t.equal(location.origin + location.pathname, LOGIN_URL)
      t.equal(location.searchParams.get('rd'), `${base}/reports?x=1`, 'rd is the URL the browser asked for')

      const post = await send(proxy.port, '/form', { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' })
      t.equal(post.status, 303, 'a POST navigation is sent to the login page with 303')

      const badToken = await send(proxy.port, '/', { headers: { authorization: 'Bearer abc.def', ...forged } })
      t.equal(badToken.status, 401)
      t.equal(seen.length, 0, 'the upstream saw none of these requests')
    })

    const u = await register(app, { name: 'Ada' })

    t.test('a session: 200, and the upstream sees sessiond\'s identity, never the forged one', async (t) => {
      const before = seen.length
      const res = await send(proxy.port, '/hello?x=1', { headers: { cookie: u.cookie, ...forged } })
      t.equal(res.status, 200)
      t.equal(seen.length, before + 1)
      const got = JSON.parse(res.body).headers as IncomingHttpHeaders
      t.equal(got['x-auth-user-id'], u.body.user.id, 'the real user id')
      t.equal(got['x-auth-user-email'], u.email)
      t.equal(got['x-auth-user-name'], 'Ada')
      t.equal(got['x-auth-user-roles'], 'user', 'the forged admin role is gone')
      t.equal(got['x-auth-session-id'], u.body.session.id)
      t.notOk(got['remote-user'], 'forged Remote-User stripped')
      t.notOk(got['remote-groups'], 'forged Remote-Groups stripped')
      t.notOk(res.headers['set-cookie'], 'no cookie set on the way')

      const byBearer = await send(proxy.port, '/hello', { headers: { authorization: `Bearer ${u.token}`, 'x-auth-user-id': 'forged' } })
      t.equal(byBearer.status, 200)
      t.equal(JSON.parse(byBearer.body).headers['x-auth-user-id'], u.body.user.id)

      const underscore = await send(proxy.port, '/hello', { headers: { cookie: u.cookie, x_auth_user_name: 'Mallory' } })
      t.equal(underscore.status, 200)
      t.notOk(JSON.parse(underscore.body).headers.x_auth_user_name, 'X_Auth_User_Name (underscores) dropped by nginx')
    })

    t.test('role rule through nginx: /admin/ needs the admin role (403 without)', async (t) => {
      const denied = await send(proxy.port, '/admin/panel', { headers: { cookie: u.cookie, ...forged } })
      t.equal(denied.status, 403)
      const row = await app.users.update(u.body.user.id, { roles: ['user', 'admin'] })
      if (row) await app.sessions.updateUser({ id: row.id, email: row.email, name: row.name, roles: row.roles })
      const allowed = await send(proxy.port, '/admin/panel', { headers: { cookie: u.cookie } })
      t.equal(allowed.status, 200)
      t.equal(JSON.parse(allowed.body).headers['x-auth-user-roles'], 'user,admin')
    })

    t.test('sessiond\'s API through the same origin; after logout: 401', async (t) => {
      const who = await send(proxy.port, '/v1/sessions/current', { headers: { cookie: u.cookie } })
      t.equal(who.status, 200)
      t.equal(JSON.parse(who.body).user.id, u.body.user.id)
      const out = await send(proxy.port, '/v1/sessions/current', { method: 'DELETE', headers: { authorization: `Bearer ${u.token}` } })
      t.equal(out.status, 204)
      const after = await send(proxy.port, '/hello', { headers: { cookie: u.cookie } })
      t.equal(after.status, 401)
      const afterBrowser = await send(proxy.port, '/hello', { headers: { cookie: u.cookie, accept: 'text/html' } })
      t.equal(afterBrowser.status, 302)
    })
  })
}
