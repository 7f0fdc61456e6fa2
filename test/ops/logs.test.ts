import type { InjectOptions } from 'fastify'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loggerOptions } from '../../src/logger.js'
import { bearer, build, testConfig, uniqueEmail } from '../helper.js'
import { captureStream, closedPort } from './helper.js'

const PASSWORD = 'Zebra-Quartz-Lantern-8841'
const WRONG = 'Otter-Velvet-Canyon-2290'
const NEW_PASSWORD = 'Maple-Glacier-Harbor-5517'

function tracing (stream: ReturnType<typeof captureStream>) {
  return { logger: loggerOptions(testConfig({ LOG_LEVEL: 'trace' }), stream) }
}

t.test('a full flow with bad inputs and error paths logs no secret, one line per request', async (t) => {
  const log = captureStream()
  const app = await build(t, {}, tracing(log))
  const email = uniqueEmail('logs')
  const secrets: string[] = [PASSWORD, WRONG, NEW_PASSWORD]

  const reg = await app.inject({ method: 'POST', url: '/v1/users', payload: { email, password: PASSWORD } })
  t.equal(reg.statusCode, 201)
  const token = reg.json().token as string
  const cookie = reg.cookies.find((c) => c.name.endsWith('session'))
  t.ok(cookie)
  secrets.push(token, token.split('.')[1] as string, String(cookie?.value))

  const requests: InjectOptions[] = [
    // bad inputs
    { method: 'POST', url: '/v1/users', payload: { email, password: PASSWORD } }, // 409
    { method: 'POST', url: '/v1/users', payload: { email: 'x', password: NEW_PASSWORD } }, // 400
    { method: 'POST', url: '/v1/users', payload: `{"email":"${email}","password":"${NEW_PASSWORD}"`, headers: { 'content-type': 'application/json' } }, // broken JSON
    { method: 'POST', url: '/v1/sessions', payload: { email, password: WRONG } }, // 401
    { method: 'POST', url: '/v1/sessions', payload: `password=${WRONG}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, // 415
    { method: 'POST', url: '/v1/sessions', payload: { email, password: WRONG.repeat(2000) } }, // 413 or 400
    { method: 'POST', url: '/v1/sessions/validate', payload: { token: token + 'x' } },
    { method: 'POST', url: '/v1/sessions/validate', payload: { token: 12345, extra: token } },
    { method: 'GET', url: `/v1/sessions/current?token=${token}`, headers: { authorization: `Basic ${token}` } },
    { method: 'GET', url: `/nowhere/${token}?password=${PASSWORD}`, headers: bearer(token) },
    // good ones
    { method: 'POST', url: '/v1/sessions', payload: { email, password: PASSWORD } },
    { method: 'POST', url: '/v1/sessions/validate', payload: { token } },
    { method: 'GET', url: '/v1/sessions/current', headers: { cookie: `${cookie?.name}=${cookie?.value}` } },
    { method: 'DELETE', url: '/v1/sessions/current', headers: bearer(token) }
  ]
  for (const r of requests) {
    const res = await app.inject(r)
    t.ok(res.statusCode < 500, `${r.method} ${String(r.url).slice(0, 20)} → ${res.statusCode}`)
    if (r.url === '/v1/sessions' && res.statusCode === 201) {
      const t2 = res.json().token as string
      secrets.push(t2, t2.split('.')[1] as string)
    }
  }

  const text = log.text()
  t.ok(text.length > 0, 'something was logged')
  for (const s of secrets) t.notOk(text.includes(s), `the log does not contain ${s.slice(0, 6)}…`)
  t.notMatch(text, /authorization|set-cookie|"cookie"/i, 'no header dump')

  const records = log.records()
  t.notOk(records.some((r) => r.msg === 'incoming request'), 'no separate incoming-request line')
  const completed = records.filter((r) => r.msg === 'request completed')
  t.equal(completed.length, requests.length + 1, 'exactly one line per request')
  const ids = new Set(completed.map((r) => r.reqId))
  t.equal(ids.size, completed.length, 'each line carries its own request id')
  const validate = completed.find((r) => r.route === '/v1/sessions/validate' && r.statusCode === 200)
  t.match(validate, { method: 'POST', url: '/v1/sessions/validate', statusCode: 200, responseTime: Number })
  const notFound = completed.find((r) => r.statusCode === 404)
  t.match(notFound, { route: null, url: `/nowhere/${token.split('.')[0]}.[redacted]` }, 'a token pasted into a path is masked')
})

t.test('store outage (503, logged at warn with the cause) logs no token or cookie', async (t) => {
  const log = captureStream()
  const port = await closedPort()
  const app = await build(t, { REDIS_URL: `redis://127.0.0.1:${port}` }, tracing(log))
  const token = `${'A'.repeat(28)}.${'s3cr3t_'.repeat(6)}x`
  const res = [
    await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } }),
    await app.inject({ url: '/v1/sessions/current', headers: bearer(token) }),
    await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { cookie: `__Host-session=${token}` } })
  ]
  t.same(res.map((r) => r.statusCode), [503, 503, 503])
  const records = log.records()
  t.ok(records.some((r) => r.level === 40 && typeof r.err === 'object'), 'the cause is logged at warn')
  t.notOk(log.text().includes('s3cr3t_'), 'no token secret in the log')
  t.notMatch(log.text(), /authorization|set-cookie|"cookie"/i, 'no header dump')
})

t.test('the redaction paths censor headers, cookies, tokens and passwords if anything ever logs them', async (t) => {
  const log = captureStream()
  const app = await build(t, {}, tracing(log))
  app.log.info({
    req: { headers: { authorization: 'Bearer leak-authz-1', cookie: '__Host-session=leak-cookie-2' } },
    res: { headers: { 'set-cookie': '__Host-session=leak-setcookie-3' } },
    headers: { authorization: 'Bearer leak-authz-4', cookie: 'leak-cookie-5' },
    body: { token: 'leak-token-6', password: 'leak-password-7', currentPassword: 'leak-8', newPassword: 'leak-9', passwordHash: 'leak-10' }
  }, 'a careless log call')
  const text = log.text()
  t.match(text, /a careless log call/)
  t.notMatch(text, /leak-/, 'every value censored')
  // (Fastify's req/res serializers drop headers before redaction even runs; the rest is censored.)
  t.ok((text.match(/\[redacted\]/g)?.length ?? 0) >= 7, 'censored, not dropped silently')
})

t.test('at LOG_LEVEL=warn a request logs nothing until something goes wrong, and then with its request id', async (t) => {
  const log = captureStream()
  const port = await closedPort()
  const app = await buildApp(testConfig({ REDIS_URL: `redis://127.0.0.1:${port}` }), { logger: loggerOptions(testConfig({ LOG_LEVEL: 'warn' }), log) })
  t.teardown(() => app.close())
  let seen: { level: string, info: boolean, warn: boolean } | undefined
  app.get('/probe-log', async (request) => {
    seen = { level: request.log.level, info: (request.log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled('info'), warn: (request.log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled('warn') }
    request.log.info('not at warn')
    request.log.child({ part: 'x' }).warn('child line')
    return {}
  })
  t.equal((await app.inject({ url: '/probe-log' })).statusCode, 200)
  t.same(seen, { level: 'warn', info: false, warn: true })
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: `${'A'.repeat(28)}.${'B'.repeat(43)}` } })).statusCode, 503)

  const records = log.records()
  t.notOk(records.some((r) => r.msg === 'not at warn' || r.msg === 'request completed'), 'nothing below warn')
  const child = records.find((r) => r.msg === 'child line')
  t.match(child, { level: 40, part: 'x', reqId: String }, 'a child of the request logger keeps the request id')
  const outage = records.find((r) => r.level === 40 && r.reqId !== undefined && typeof r.err === 'object')
  t.match(outage, { msg: /store unavailable/, reqId: String }, 'the outage warning carries the request id')
  t.not(outage?.reqId, child?.reqId, 'each request its own id')
})
