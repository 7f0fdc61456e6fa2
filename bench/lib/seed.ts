// Seeding sessions straight into Redis: logging in through HTTP a million times would
// take hours of argon2. Each product's own store code writes its own format.
import { randomBytes } from 'node:crypto'
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'

export interface SnapshotUser { id: string, email: string, name: string, roles: string[] }

const BATCH = 2000

export async function seedSessiond (_redisUrl: string, _users: SnapshotUser[], _count: number): Promise<string[]> {
  throw new Error('sessiond session store not available yet')
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
