/*
 * Measures "revoke all sessions of a user" with 1,000 live sessions against a real Redis, through
 * the same store code the service uses. Prints the median (and min/max) of several runs; the
 * number goes into the README, never into a test assertion.
 *
 *   npx tsx scripts/revoke-all-timing.ts            # REDIS_URL (default redis://127.0.0.1:6379), 9 runs
 *   RUNS=15 SESSIONS=1000 npx tsx scripts/revoke-all-timing.ts
 *
 * Keys live under a random prefix and are all gone at the end (revoked by the measured call).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { systemClock } from '../src/clock.js'
import { createRedisSessionStore } from '../src/sessions/redis-store.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const RUNS = Number(process.env.RUNS ?? 9)
const SESSIONS = Number(process.env.SESSIONS ?? 1000)

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}
const ms = (x: number) => `${x.toFixed(2)} ms`

async function main () {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  const prefix = `timing:${randomBytes(4).toString('hex')}:`
  const store = createRedisSessionStore({
    redis,
    prefix,
    clock: systemClock,
    options: { idleTtlMs: 3_600_000, absoluteTtlMs: 7_200_000, extendThrottleMs: 60_000 }
  })
  const revokeTimes: number[] = []
  const listTimes: number[] = []
  try {
    // One warm-up run loads the scripts into Redis (EVALSHA misses once per script).
    for (let run = -1; run < RUNS; run++) {
      const user = { id: randomUUID(), email: `timing-${run}@example.test`, name: 'Timing', roles: ['user'] }
      for (let i = 0; i < SESSIONS; i += 100) {
        await Promise.all(Array.from({ length: Math.min(100, SESSIONS - i) }, (_, j) =>
          store.create(user, { ip: '192.0.2.1', userAgent: `timing/${i + j}` })))
      }
      let t0 = performance.now()
      const listed = await store.listByUser(user.id)
      const list = performance.now() - t0
      t0 = performance.now()
      const revoked = await store.revokeAllForUser(user.id)
      const revoke = performance.now() - t0
      if (listed.length !== SESSIONS || revoked !== SESSIONS) throw new Error(`expected ${SESSIONS}, listed ${listed.length}, revoked ${revoked}`)
      if (run >= 0) {
        listTimes.push(list)
        revokeTimes.push(revoke)
      }
    }
  } finally {
    redis.disconnect()
  }
  const info = `${RUNS} runs, ${SESSIONS} sessions of one user, ${REDIS_URL}`
  console.log(`revokeAllForUser: median ${ms(median(revokeTimes))} (min ${ms(Math.min(...revokeTimes))}, max ${ms(Math.max(...revokeTimes))}); ${info}`)
  console.log(`listByUser:       median ${ms(median(listTimes))} (min ${ms(Math.min(...listTimes))}, max ${ms(Math.max(...listTimes))})`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
