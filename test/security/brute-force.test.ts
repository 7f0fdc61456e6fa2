import { Cluster, type Redis } from 'ioredis'
import t from 'tap'
import { build, PASSWORD, register, RUN_PREFIX, testClock, uniqueEmail } from '../helper.js'

/*
 * SPEC §7 brute force, on Redis and on the embedded store (same rules). Time is driven by the
 * injectable clock, so backoffs are crossed without sleeping.
 */

const LIMITS = {
  LOGIN_ACCOUNT_FREE_FAILURES: '3',
  LOGIN_IP_FREE_FAILURES: '6',
  LOGIN_BACKOFF_BASE_SECONDS: '1',
  LOGIN_BACKOFF_MAX_SECONDS: '4',
  LOGIN_FAILURE_WINDOW_SECONDS: '60'
}

const backends = [
  { name: 'redis', env: {} },
  { name: 'embedded', env: { REDIS_URL: undefined, REDIS_CLUSTER_NODES: undefined } }
]

let ipCounter = 1
const newIp = () => `10.${(ipCounter >> 8) & 255}.${ipCounter++ & 255}.${Math.floor(Math.random() * 250) + 1}`

for (const backend of backends) {
  t.test(`${backend.name}: per-account backoff`, async (t) => {
    const clock = testClock()
    const app = await build(t, { ...LIMITS, ...backend.env }, { clock })
    const u = await register(app, { email: uniqueEmail('bf') })
    const attacker = newIp()
    const attempt = (password: string, ip = attacker, email = u.email) =>
      app.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password }, remoteAddress: ip })
    // A device of the owner that mistyped once elsewhere: not clean, so it waits during the backoff.
    const typo = newIp()
    await attempt('typo', typo, uniqueEmail('other'))

    for (let i = 0; i < 3; i++) t.equal((await attempt('wrong password ' + i)).statusCode, 401, `free failure ${i + 1}`)
    t.equal((await attempt('wrong again')).statusCode, 401, 'the 4th failure is still answered (and starts the backoff)')
    const limited = await attempt(PASSWORD, attacker, `  ${u.email.toUpperCase()} `)
    t.equal(limited.statusCode, 429, 'even the right password waits, whatever the case and spaces of the email')
    t.equal(limited.json().code, 'RATE_LIMITED')
    t.equal(limited.headers['retry-after'], '1')
    t.notOk(limited.headers['set-cookie'])

    // Each further failure doubles the delay, up to the cap (4 s).
    const seen: string[] = []
    for (let i = 0; i < 4; i++) {
      clock.advance(Number((await attempt(PASSWORD)).headers['retry-after'] ?? 0) * 1000)
      t.equal((await attempt('wrong')).statusCode, 401)
      seen.push(String((await attempt(PASSWORD)).headers['retry-after']))
    }
    t.same(seen, ['2', '4', '4', '4'], 'exponential, capped at LOGIN_BACKOFF_MAX_SECONDS')
    t.equal((await attempt(PASSWORD, typo)).statusCode, 429, 'an address that failed before waits for the account')

    // The owner, on an address that never failed, logs in during the backoff; that resets the account.
    const owner = await attempt(PASSWORD, newIp())
    t.equal(owner.statusCode, 201, 'a correct password from a clean address is let through')
    t.ok(owner.headers['set-cookie'])
    t.equal((await attempt(PASSWORD, typo)).statusCode, 201, 'the account count was reset by the success')
  })

  t.test(`${backend.name}: a clean address gets one try, the backoff decays`, async (t) => {
    const clock = testClock()
    const app = await build(t, { ...LIMITS, ...backend.env }, { clock })
    const u = await register(app, { email: uniqueEmail('bf') })
    const attempt = (password: string, ip: string) =>
      app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: u.email, password }, remoteAddress: ip })
    const attacker = newIp()
    for (let i = 0; i < 4; i++) await attempt('wrong', attacker)
    t.equal((await attempt(PASSWORD, attacker)).statusCode, 429)

    const second = newIp()
    t.equal((await attempt('wrong', second)).statusCode, 401, 'a wrong guess from a clean address is answered')
    t.equal((await attempt(PASSWORD, second)).statusCode, 429, 'after which that address waits too')

    clock.advance(61_000)
    t.equal((await attempt(PASSWORD, attacker)).statusCode, 201, 'failures older than the window are forgotten')
  })

  t.test(`${backend.name}: per-address backoff across accounts`, async (t) => {
    const clock = testClock()
    const app = await build(t, { ...LIMITS, ...backend.env }, { clock })
    const victim = await register(app, { email: uniqueEmail('bf') })
    const ip = newIp()
    // Credential stuffing: one failure each on many accounts, never enough for any account's backoff.
    for (let i = 0; i < 7; i++) {
      const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: uniqueEmail('nobody'), password: 'guess guess' }, remoteAddress: ip })
      t.equal(res.statusCode, 401)
    }
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: victim.email, password: PASSWORD }, remoteAddress: ip })
    t.equal(res.statusCode, 429, 'the address is in backoff for every account')
    t.equal(res.headers['retry-after'], '1')
    const other = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: victim.email, password: PASSWORD }, remoteAddress: newIp() })
    t.equal(other.statusCode, 201, 'other addresses are not affected')
  })

  t.test(`${backend.name}: registration is limited per address`, async (t) => {
    const app = await build(t, { ...LIMITS, REGISTRATION_PER_IP: '2', ...backend.env })
    const ip = newIp()
    const reg = () => app.inject({ method: 'POST', url: '/v1/users', payload: { email: uniqueEmail('reg'), password: PASSWORD }, remoteAddress: ip })
    t.equal((await reg()).statusCode, 201)
    t.equal((await reg()).statusCode, 201)
    const third = await reg()
    t.equal(third.statusCode, 429)
    t.equal(third.json().code, 'RATE_LIMITED')
    t.ok(Number(third.headers['retry-after']) > 0 && Number(third.headers['retry-after']) <= 3600, 'Retry-After within the window')
    t.notOk(third.headers['set-cookie'])
    const elsewhere = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: uniqueEmail('reg'), password: PASSWORD }, remoteAddress: newIp() })
    t.equal(elsewhere.statusCode, 201)
  })
}

t.test('limits can be turned off', async (t) => {
  const app = await build(t, { ...LIMITS, LOGIN_THROTTLE: 'false' })
  const u = await register(app)
  const ip = newIp()
  for (let i = 0; i < 8; i++) await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: u.email, password: 'wrong' }, remoteAddress: ip })
  const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: u.email, password: PASSWORD }, remoteAddress: ip })
  t.equal(res.statusCode, 201)
})

t.test('every throttle key in Redis has a TTL and a hash tag', async (t) => {
  const app = await build(t, LIMITS)
  const u = await register(app)
  await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: u.email, password: 'wrong' }, remoteAddress: newIp() })
  const keys: string[] = []
  // SCAN is fine here: this run's own prefix, in a test (the service itself never scans).
  const nodes = 'nodes' in app.redis ? app.redis.nodes('master') : [app.redis]
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${RUN_PREFIX}*`, 'COUNT', 1000)
      cursor = next
      keys.push(...batch.filter((k) => k.startsWith(`${RUN_PREFIX}bf:`) || k.startsWith(`${RUN_PREFIX}rr:`)))
    } while (cursor !== '0')
  }
  t.ok(keys.length >= 3, `found ${keys.length} throttle keys`)
  for (const key of keys) {
    t.match(key, /\{[A-Za-z0-9_-]{22}\}$/, `${key} ends in a hash tag`)
    t.ok(await app.redis.pttl(key) > 0, `${key} expires`)
  }
})

t.test('wrong current passwords on password change count like failed logins', async (t) => {
  const clock = testClock()
  const app = await build(t, LIMITS, { clock })
  const u = await register(app, { email: uniqueEmail('bf') })
  const ip = newIp()
  const change = (currentPassword: string) => app.inject({
    method: 'POST',
    url: '/v1/users/me/password',
    headers: { authorization: `Bearer ${u.token}` },
    payload: { currentPassword, newPassword: 'a brand new passphrase 42' },
    remoteAddress: ip
  })
  for (let i = 0; i < 4; i++) t.equal((await change('wrong guess ' + i)).statusCode, 401)
  const limited = await change(PASSWORD)
  t.equal(limited.statusCode, 429, 'a stolen session cannot be used to guess the password')
  t.equal(limited.headers['retry-after'], '1')
  const loginLimited = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: u.email, password: PASSWORD }, remoteAddress: ip })
  t.equal(loginLimited.statusCode, 429, 'the same account backoff applies to logins')
  clock.advance(1000)
  t.equal((await change(PASSWORD)).statusCode, 200, 'after the backoff the right password works')
})

t.test('a login resets the account count only when it found failures on record', async (t) => {
  const app = await build(t, LIMITS)
  if (app.redis instanceof Cluster) {
    t.comment('skipped: MONITOR needs a single node')
    return
  }
  const u = await register(app, { email: uniqueEmail('bf') })
  const redis = app.redis as Redis
  const monitor = await redis.monitor()
  const seen: string[][] = []
  // Only this app's connection, without the connection watchdog's PING.
  const source = `127.0.0.1:${redis.stream.localPort}`
  monitor.on('monitor', (_time: string, args: string[], from: string) => {
    if (from === source && String(args[0]).toLowerCase() !== 'ping') seen.push(args.map(String))
  })
  await new Promise((resolve) => setTimeout(resolve, 50))
  const login = (password: string) => app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: u.email, password }, remoteAddress: newIp() })
  const isAccountReset = ([c, key]: string[]) => c?.toLowerCase() === 'del' && key?.startsWith(`${RUN_PREFIX}bf:a:`) === true
  const accountResets = () => seen.filter(isAccountReset).length

  t.equal((await login(PASSWORD)).statusCode, 201)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(seen.filter(([c]) => c?.toLowerCase() === 'hmget').length, 2, 'the account and address counters are read')
  t.equal(accountResets(), 0, 'a clean account: nothing to reset, no command for it')

  t.equal((await login('wrong')).statusCode, 401)
  t.equal((await login(PASSWORD)).statusCode, 201)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(accountResets(), 1, 'after a failure, the next success resets the account')
  t.equal((await login('wrong again')).statusCode, 401)
  monitor.disconnect()
  // The reset took: this failure is the first in the window again, not the second.
  const failures = await redis.hget(seen.find(isAccountReset)![1]!, 'n')
  t.equal(failures, '1')
})
