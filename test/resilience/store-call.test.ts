import t from 'tap'
import { storeCall } from '../../src/plugins/redis.js'

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
