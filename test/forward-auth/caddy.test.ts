import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { build, register } from '../helper.js'
import { canConnect, echoUpstream, findBinary, replaceOnce } from './gateway.js'
import { freePort, send } from './nginx.js'

/*
 * examples/Caddyfile in a real Caddy, when one is installed (apt-get install -y caddy). Unlike the
 * nginx test this one is optional: CI installs nginx, not Caddy.
 */
const LOGIN_URL = 'https://login.example.test/signin'

const caddy = findBinary('caddy')
if (caddy === null) {
  t.test('examples/Caddyfile in a real Caddy', { skip: 'caddy is not installed' }, () => {})
} else {
  t.test('examples/Caddyfile in a real Caddy, in front of an upstream that echoes its headers', async (t) => {
    const app = await build(t, { LOGIN_URL })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port: upstreamPort, seen } = await echoUpstream(t)

    const port = await freePort()
    const sessiond = `127.0.0.1:${(app.server.address() as AddressInfo).port}`
    let conf = readFileSync(new URL('../../examples/Caddyfile', import.meta.url), 'utf8')
    conf = replaceOnce(conf, 'app.example.com {', `http://127.0.0.1:${port} {`, 'examples/Caddyfile')
    conf = replaceOnce(conf, 'reverse_proxy 127.0.0.1:8080', `reverse_proxy 127.0.0.1:${upstreamPort}`, 'examples/Caddyfile')
    conf = conf.replaceAll('127.0.0.1:3000', sessiond)
    // No admin endpoint, no certificates, and nothing written outside the temporary folder.
    const dir = mkdtempSync(join(tmpdir(), 'sessiond-caddy-'))
    writeFileSync(join(dir, 'Caddyfile'), `{\n\tadmin off\n\tauto_https off\n}\n${conf}`)
    const child = spawn(caddy, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
      env: { ...process.env, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, HOME: dir },
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let log = ''
    child.stderr?.on('data', (d) => { log += String(d) })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    t.teardown(async () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    })
    const deadline = Date.now() + 10_000
    while (!(await canConnect(port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`caddy did not start: ${log}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    const forged = { 'x-auth-user-id': 'forged', 'x-auth-user-name': 'Mallory', 'remote-user': 'root' }
    const api = await send(port, '/x?y=1', { headers: { accept: 'application/json', ...forged } })
    t.equal(api.status, 401)
    t.equal(JSON.parse(api.body).code, 'SESSION_INVALID')
    const browser = await send(port, '/x?y=1', { headers: { accept: 'text/html' } })
    t.equal(browser.status, 302)
    t.equal(new URL(browser.headers.location as string).searchParams.get('rd'), `http://127.0.0.1:${port}/x?y=1`)
    const post = await send(port, '/form', { method: 'POST', headers: { accept: 'text/html' } })
    t.equal(post.status, 303)
    t.equal(seen.length, 0, 'the upstream saw none of these')

    const u = await register(app) // no name: a forged name must not survive either
    const res = await send(port, '/x', { headers: { cookie: u.cookie, ...forged } })
    t.equal(res.status, 200)
    const got = JSON.parse(res.body).headers as IncomingHttpHeaders
    t.equal(got['x-auth-user-id'], u.body.user.id)
    t.equal(got['x-auth-user-email'], u.email)
    t.equal(got['x-auth-user-name'] ?? '', '', 'forged name gone (sessiond sends an empty one)')
    t.notOk(got['remote-user'], 'forged Remote-User dropped')

    const out = await send(port, '/v1/sessions/current', { method: 'DELETE', headers: { authorization: `Bearer ${u.token}` } })
    t.equal(out.status, 204, "sessiond's API through the same origin")
    t.equal((await send(port, '/x', { headers: { cookie: u.cookie } })).status, 401, 'after logout')
  })
}
