import t from 'tap'
import { spawnSync } from 'node:child_process'
import { Redis } from 'ioredis'
import { storeCall } from '../../src/plugins/redis.js'
import { REDIS_URL } from '../helper.js'

// storeCall bounds a store call as a whole, however many commands it sends in a row
// (docs/resilience.md), so this deadline is what keeps SPEC §8.
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

t.test('a lone call is written at once; calls made while others wait for Redis leave in one write', async (t) => {
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.disconnect())
  await redis.ping()
  const call = storeCall(500, redis)
  // Count the socket's writes: Node hands a corked socket's chunks to _writev in one go.
  const socket = redis.stream as typeof redis.stream & { _write: (...a: unknown[]) => void, _writev: (...a: unknown[]) => void }
  const writes: number[] = []
  const write = socket._write.bind(socket)
  const writev = socket._writev.bind(socket)
  socket._write = (...a) => { writes.push(1); write(...a) }
  socket._writev = (chunks, ...a) => { writes.push((chunks as unknown[]).length); writev(chunks, ...a) }
  const ping = (message: string) => call(() => redis.ping(message))

  let corked = -1
  t.equal(await call(() => { const reply = redis.ping('alone'); corked = socket.writableCorked; return reply }), 'alone')
  t.equal(corked, 0, 'nothing else waiting: written at once, not held for the loop turn')
  t.same(writes, [1], 'one command, one write')
  writes.length = 0
  t.same(await Promise.all([ping('a'), ping('b'), ping('c'), ping('d')]), ['a', 'b', 'c', 'd'])
  t.same(writes, [1, 3], 'the first goes out at once, the three made while it waits leave together')
  t.equal(socket.writableCorked, 0, 'the socket is uncorked again')

  writes.length = 0
  const both = await call(() => Promise.all([redis.ping('x'), redis.ping('y')]), true)
  t.same(both, ['x', 'y'])
  t.same(writes, [2], 'a batch call: its commands leave in one write even with nothing else waiting')
})

t.test('settled calls leave nothing behind that outlives a minor GC (no promotion per request)', async (t) => {
  // Under load the calls' bookkeeping must die young. When it was a Set, a full GC during load
  // put one of its tables in the old generation, and from then on every later table (and the
  // entries, promises and answers in them) survived each scavenge and was promoted: a production
  // process spent its life in mark-compacts (bench/findings.md). test/support/store-call-promotion.ts
  // runs that sequence with the collector driven by hand, in a process of its own, and measures
  // what reaches the old generation, with storeCall and for the same traffic without it.
  const promotedBy = (mode: 'bare' | 'store-call') => {
    const run = spawnSync(process.execPath, ['--expose-gc', '--single-threaded-gc', '--import', 'tsx', 'test/support/store-call-promotion.ts', mode], {
      encoding: 'utf8', timeout: 60_000
    })
    if (run.status !== 0) throw new Error(`store-call-promotion.ts ${mode} exited ${run.status}: ${run.stderr}`)
    return JSON.parse(run.stdout) as { promoted: number, majorGCs: number }
  }
  const bare = promotedBy('bare')
  const wrapped = promotedBy('store-call')
  const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`
  t.equal(bare.majorGCs + wrapped.majorGCs, 0, 'no major GC started by V8 itself during the measured calls')
  t.ok(wrapped.promoted - bare.promoted < 3_000_000,
    `25,000 settled calls promoted ${mb(wrapped.promoted)} to the old generation, the same traffic without storeCall ${mb(bare.promoted)}`)
})
