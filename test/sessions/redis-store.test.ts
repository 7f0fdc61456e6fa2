import { createHash } from 'node:crypto'
import t from 'tap'
import { Cluster, type Redis } from 'ioredis'
import { createRedisClient } from '../../src/plugins/redis.js'
import { createRedisSessionStore } from '../../src/sessions/redis-store.js'
import { RUN_PREFIX, testClock, testConfig } from '../helper.js'
import { aUser, OPTIONS, storeContract } from './store-contract.js'

// Runs on whatever Redis testConfig() names: the single node by default, or a cluster.
const redis = createRedisClient(testConfig())
t.teardown(() => redis.quit())
const prefix = `${RUN_PREFIX}store:`

storeContract(t, async (_t, clock) => createRedisSessionStore({ redis, prefix, clock, options: OPTIONS }))

t.test('Redis holds the expiry it reports, and no usable token', async (t) => {
  const clock = testClock()
  const store = createRedisSessionStore({ redis, prefix, clock, options: OPTIONS })
  const user = aUser()
  const { token, session } = await store.create(user, { ip: null, userAgent: null })
  const [id, secret] = token.split('.') as [string, string]
  const key = `${prefix}s:{${id.slice(0, 12)}}${id.slice(12)}`
  t.equal(await redis.pexpiretime(key), session.expiresAt, 'Redis TTL = computed idle expiry')

  clock.advance(2 * 24 * 3600_000)
  const r = await store.validate(token)
  t.equal(r.status, 'valid')
  t.equal(await redis.pexpiretime(key), clock.now() + OPTIONS.idleTtlMs, 'sliding is visible in the Redis TTL')
  t.equal(r.status === 'valid' && r.session.expiresAt, clock.now() + OPTIONS.idleTtlMs)

  const dump = await redis.get(key) ?? ''
  t.notOk(dump.includes(secret), 'the secret is not stored')
  t.notOk(dump.includes(token), 'the token is not stored')
  t.equal(dump.slice(0, 43), createHash('sha256').update(secret).digest('base64url'), 'only a SHA-256 of the secret')
  t.equal(await redis.type(key), 'string', 'one compact string per session')

  const indexKey = `${prefix}u:{${id.slice(0, 12)}}${user.id}`
  t.equal(await redis.zscore(indexKey, id), String(session.absoluteExpiresAt), 'indexed under the user, scored by absolute expiry')
  t.ok(await redis.pexpiretime(indexKey) >= session.absoluteExpiresAt, 'the index itself expires')
})

t.test('one validate is one Redis command: EVALSHA when a slide may be due, else a plain GET', { skip: redis instanceof Cluster && 'MONITOR needs a single node' }, async (t) => {
  const clock = testClock()
  const store = createRedisSessionStore({ redis, prefix, clock, options: OPTIONS })
  const { token } = await store.create(aUser(), { ip: null, userAgent: null })
  await store.validate(token) // loads the script
  const monitor = await (redis as Redis).monitor()
  const seen: string[] = []
  // MONITOR shows every client of the shared Redis; keep only this store's connection.
  const source = `127.0.0.1:${(redis as Redis).stream.localPort}`
  monitor.on('monitor', (_time: string, args: string[], from: string) => { if (from === source) seen.push(String(args[0]).toLowerCase()) })
  await new Promise((resolve) => setTimeout(resolve, 50))
  for (let i = 0; i < 10; i++) await store.validate(token)
  clock.advance(OPTIONS.extendThrottleMs)
  const slid = await store.validate(token)
  const after = await store.validate(token)
  await new Promise((resolve) => setTimeout(resolve, 100))
  monitor.disconnect()
  // Commands a script runs show with the source "lua"; this counts what the client sends, i.e.
  // round trips. That the script writes nothing inside the throttle window is in the contract suite.
  t.same(seen, [...Array(10).fill('get'), 'evalsha', 'get'],
    'inside the throttle window: GET; once it has passed: one EVALSHA that slides; then GET again')
  t.equal(slid.status === 'valid' && slid.session.lastSeenAt, clock.now(), 'the script slid the session')
  t.equal(after.status === 'valid' && after.session.lastSeenAt, clock.now(), 'the GET that follows reads the slid session')
})
