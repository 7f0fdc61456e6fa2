import t from 'tap'
import { buildApp } from '../../src/app.js'
import { build, PASSWORD, register, testConfig, uniqueEmail } from '../helper.js'

/*
 * SPEC §8 "a restart loses no session" and scale-out: sessions live in Redis only, so a new
 * process (or a second replica) sharing Redis and PostgreSQL sees exactly the same sessions.
 */

t.test('restarting sessiond loses no session', async (t) => {
  const first = await buildApp(testConfig(), { logger: false })
  const users = []
  for (let i = 0; i < 25; i++) users.push(await register(first, { email: uniqueEmail('restart') }))
  await first.close()

  const second = await build(t)
  let lost = 0
  for (const u of users) {
    const res = await second.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })
    if (res.statusCode !== 200 || res.json().session.id !== u.body.session.id) lost++
  }
  t.comment(`sessions lost across the restart: ${lost} of ${users.length}`)
  t.equal(lost, 0)
})

t.test('two replicas on different ports agree on every session', async (t) => {
  const a = await build(t, { LOGIN_ACCOUNT_FREE_FAILURES: '2', LOGIN_IP_FREE_FAILURES: '1000' })
  const b = await build(t, { LOGIN_ACCOUNT_FREE_FAILURES: '2', LOGIN_IP_FREE_FAILURES: '1000' })
  const base = async (app: typeof a) => {
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  }
  const [urlA, urlB] = [await base(a), await base(b)]
  t.not(urlA, urlB)
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

  const email = uniqueEmail('replica')
  const reg = await post(`${urlA}/v1/users`, { email, password: PASSWORD })
  t.equal(reg.status, 201, 'registered on A')
  const { token } = await reg.json() as { token: string }

  t.equal((await post(`${urlB}/v1/sessions/validate`, { token })).status, 200, 'validated on B')
  const me = await fetch(`${urlB}/v1/sessions/current`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(me.status, 200, 'whoami on B')

  const loginB = await post(`${urlB}/v1/sessions`, { email, password: PASSWORD })
  t.equal(loginB.status, 201, 'logged in on B')
  const tokenB = (await loginB.json() as { token: string }).token
  t.equal((await post(`${urlA}/v1/sessions/validate`, { token: tokenB })).status, 200, 'B\'s session validates on A')

  const out = await fetch(`${urlB}/v1/sessions/current`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
  t.equal(out.status, 204, 'logged out on B')
  t.equal((await post(`${urlA}/v1/sessions/validate`, { token })).status, 401, 'A sees the revocation at once')
  t.equal((await post(`${urlA}/v1/sessions/validate`, { token: tokenB })).status, 200, 'the other session lives on')

  // Brute-force counters are shared too: failures on A count on B.
  for (const url of [urlA, urlB, urlA]) t.equal((await post(`${url}/v1/sessions`, { email, password: 'wrong wrong' })).status, 401)
  const limited = await post(`${urlB}/v1/sessions`, { email, password: PASSWORD })
  t.equal(limited.status, 429, 'the backoff started by failures on both replicas applies on B')
})
