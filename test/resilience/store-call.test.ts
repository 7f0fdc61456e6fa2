import t from 'tap'
import { Redis } from 'ioredis'
import { storeCall } from '../../src/plugins/redis.js'
import { REDIS_URL } from '../helper.js'

// storeCall bounds a store call as a whole: a command that ioredis holds behind an auto-pipeline in
// flight is not timed by ioredis yet (docs/resilience.md), so this deadline is what keeps SPEC §8.
const call = storeCall(50)

t.test('a call that never settles fails with STORE_UNAVAILABLE instead of hanging', async (t) => {
  const err = await call(() => new Promise(() => {})).then(() => null, (e: unknown) => e) as { code?: string, cause?: Error } | null
  t.equal(err?.code, 'STORE_UNAVAILABLE')
  t.match(err?.cause?.message, /did not answer within 50 ms/)
})

t.test('a rejected or throwing call is STORE_UNAVAILABLE, with the cause kept', async (t) => {
  const boom = new Error('connection reset')
  const rejected = await call(() => Promise.reject(boom)).catch((e: unknown) => e) as { code?: string, cause?: Error }
  t.equal(rejected.code, 'STORE_UNAVAILABLE')
  t.equal(rejected.cause, boom)
  const thrown = await call(() => { throw boom }).catch((e: unknown) => e) as { code?: string, cause?: Error }
  t.equal(thrown.code, 'STORE_UNAVAILABLE')
  t.equal(thrown.cause, boom)
})

t.test('an answer in time passes through unchanged', async (t) => {
  t.same(await call(async () => ['id', 'value']), ['id', 'value'])
})

t.test('each call has its own deadline, counted from when it was made', async (t) => {
  const t0 = performance.now()
  const settled = (p: Promise<unknown>) => p.then((v) => ({ v, at: performance.now() - t0 }), (e: { code?: string }) => ({ v: e.code, at: performance.now() - t0 }))
  const first = settled(call(() => new Promise(() => {})))
  await new Promise((resolve) => setTimeout(resolve, 30))
  const second = settled(call(() => new Promise(() => {})))
  // Answers after the first call's deadline but inside its own.
  const third = settled(call(() => new Promise((resolve) => setTimeout(() => resolve('late but in time'), 40))))
  const [a, b, c] = await Promise.all([first, second, third])
  t.equal(a.v, 'STORE_UNAVAILABLE')
  t.equal(b.v, 'STORE_UNAVAILABLE')
  t.equal(c.v, 'late but in time', 'an earlier call timing out does not fail a later one')
  t.ok(a.at >= 49, `the first failed at its own deadline (${a.at.toFixed(1)} ms)`)
  t.ok(b.at >= 79 && b.at > a.at + 20, `the second failed at its own deadline (${b.at.toFixed(1)} ms), not with the first`)
})

t.test('with an auto-pipelining client, a lone call goes out at once and concurrent calls share a pipeline', async (t) => {
  const redis = new Redis(REDIS_URL, { enableAutoPipelining: true })
  t.teardown(() => redis.disconnect())
  await redis.ping()
  const call = storeCall(500, redis)
  const queued: number[] = []
  const ping = () => call(async () => {
    const reply = redis.ping()
    queued.push(redis.autoPipelineQueueSize)
    return await reply
  })
  t.equal(await ping(), 'PONG')
  t.same(queued, [0], 'nothing else waiting: sent directly, not held for the next tick')
  queued.length = 0
  t.same(await Promise.all([ping(), ping(), ping()]), ['PONG', 'PONG', 'PONG'])
  t.same(queued, [0, 1, 2], 'the first goes out at once, the others wait in one pipeline')

  const plain = new Redis(REDIS_URL, { enableAutoPipelining: false })
  t.teardown(() => plain.disconnect())
  await storeCall(500, plain)(() => plain.ping())
  t.equal(plain.options.enableAutoPipelining, false, 'a client without auto-pipelining is left as it is')
})
