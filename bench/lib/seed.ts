// Seeding sessions straight into Redis: logging in through HTTP a million times would
// take hours of argon2. Each product's own store code writes its own format.
import { randomBytes } from 'node:crypto'
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import { Redis } from 'ioredis'
import { createRedisSessionStore } from '../../src/sessions/redis-store.js'
import { systemClock } from '../../src/clock.js'
import { IDLE_TTL_MS, LIMIT_PREFIX, limitSessionValue } from './fixtures.js'

export interface SnapshotUser { id: string, email: string, name: string, roles: string[] }

const BATCH = 2000

/** A desktop browser's User-Agent: what a real login stores next to the session. */
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

/**
 * `count` sessions created by sessiond's own Redis store (src/sessions/redis-store.ts), so the
 * key layout, the per-user index and the TTLs are exactly what a login writes. Session i belongs
 * to users[i % users.length]. Returns the bearer tokens.
 */
export async function seedSessiond (redisUrl: string, users: SnapshotUser[], count: number, prefix = 'bench:'): Promise<string[]> {
  const redis = new Redis(redisUrl, { enableAutoPipelining: true })
  const store = createRedisSessionStore({
    redis,
    prefix,
    clock: systemClock,
    // sessiond's defaults: 7 days idle, 30 days absolute, extend at most once a minute
    options: { idleTtlMs: 7 * 24 * 3600_000, absoluteTtlMs: 30 * 24 * 3600_000, extendThrottleMs: 60_000 },
    // Seeding sends 2,000 scripts at a time; the service's 0.5 s bound per call is for requests,
    // and on a loaded machine a batch into a Redis of a million keys outlived it once (12:46 run).
    timeoutMs: 30_000
  })
  const meta = { ip: '127.0.0.1', userAgent: BROWSER_UA }
  const tokens: string[] = new Array(count)
  try {
    for (let done = 0; done < count; done += BATCH) {
      const n = Math.min(BATCH, count - done)
      const made = await Promise.all(Array.from({ length: n }, (_, j) => store.create(users[(done + j) % users.length]!, meta)))
      for (let j = 0; j < n; j++) tokens[done + j] = made[j]!.token
    }
  } finally {
    redis.disconnect()
  }
  return tokens
}

/** `count` sessions written by connect-redis itself (as express-session would), ids like uid-safe(24). */
export async function seedConnectRedis (redisUrl: string, prefix: string, sess: object, count: number): Promise<void> {
  const client = createClient({ url: redisUrl })
  await client.connect()
  const store = new RedisStore({ client, prefix })
  try {
    for (let done = 0; done < count; done += BATCH) {
      const n = Math.min(BATCH, count - done)
      // node-redis pipelines the commands issued in the same tick
      await Promise.all(Array.from({ length: n }, () =>
        store.set(randomBytes(24).toString('base64url'), structuredClone(sess) as any)))
    }
  } finally {
    await client.quit()
  }
}

/** `count` sessions of the limit route (its ~200-byte value) under random tokens; returns the tokens. */
export async function seedLimit (redis: Redis, count: number): Promise<string[]> {
  const value = limitSessionValue()
  const tokens: string[] = []
  for (let done = 0; done < count; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - done) }, () => randomBytes(32).toString('base64url'))
    await redis.pipeline(batch.map((t) => ['set', LIMIT_PREFIX + t, value, 'PX', String(IDLE_TTL_MS)])).exec()
    tokens.push(...batch)
  }
  return tokens
}
