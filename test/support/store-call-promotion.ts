// Run by test/resilience/store-call.test.ts in a process of its own (node --expose-gc
// --single-threaded-gc), so that nothing else allocates or collects beside it:
//   store-call-promotion.ts bare|store-call
// makes 50 calls at a time, runs a major GC while a batch is in flight, then makes 25,000 more
// calls with only minor GCs between batches, and prints how many bytes the old generation grew by
// in that second phase, as JSON: { "promoted": N, "majorGCs": N } (major GCs V8 started by itself
// in that phase; one would free garbage and spoil the figure).
import v8 from 'node:v8'
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { storeCall } from '../../src/plugins/redis.js'

const gc = globalThis.gc as unknown as (options?: { type: 'major' | 'minor' }) => void
const mode = process.argv[2]
const call = storeCall(500)
const wrap = mode === 'store-call' ? <T>(fn: () => Promise<T>) => call(fn) : <T>(fn: () => Promise<T>) => fn()
const answer = (i: number) => async () => `${'x'.repeat(200)}${i}`
const batch = () => Promise.all(Array.from({ length: 50 }, (_, i) => wrap(answer(i))))
const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0

for (let b = 0; b < 100; b++) await batch()
const inFlight = batch()
gc({ type: 'major' })
await inFlight
await sleep(100)
gc({ type: 'minor' })
gc({ type: 'minor' })

let majorGCs = 0
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGCs++
  }
})
observer.observe({ entryTypes: ['gc'] })
const before = oldSpace()
for (let round = 0; round < 5; round++) {
  for (let b = 0; b < 100; b++) await batch()
  gc({ type: 'minor' })
  gc({ type: 'minor' })
}
const promoted = oldSpace() - before
await sleep(10) // the observer's entries arrive asynchronously
observer.disconnect()
console.log(JSON.stringify({ promoted, majorGCs }))
