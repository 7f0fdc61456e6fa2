import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { buildApp, type BuildOptions } from '../src/app.js'
import type { Clock } from '../src/clock.js'
import { loadConfig, type Config } from '../src/config.js'

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
/** Set (host:port,...) to run the suite against a Redis Cluster instead (scripts/redis-cluster.sh). */
export const REDIS_CLUSTER_NODES = process.env.TEST_REDIS_CLUSTER_NODES || undefined

/** Isolates a test run's keys in the shared Redis (we never flush shared databases). */
export const RUN_PREFIX = `test:${randomBytes(4).toString('hex')}:`

/** A clock tests move by hand, to drive idle and absolute expiry without sleeping. */
export function testClock (start = Date.now()): Clock & { advance(ms: number): void, set(ms: number): void } {
  let now = start
  return {
    now: () => now,
    advance (ms) { now += ms },
    set (ms) { now = ms }
  }
}

export function testConfig (overrides: Record<string, string | undefined> = {}): Config {
  // A test that names a topology itself (even `REDIS_URL: undefined`, for embedded mode) gets
  // exactly that; otherwise the run's Redis: the single node, or the cluster when one is given.
  const chosen = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'].some((k) => k in overrides)
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL,
    ...(chosen ? {} : REDIS_CLUSTER_NODES !== undefined ? { REDIS_CLUSTER_NODES } : { REDIS_URL }),
    REDIS_KEY_PREFIX: RUN_PREFIX,
    COOKIE_SECURE: 'true',
    // Every inject comes from 127.0.0.1: per-IP limits high enough for whole test files
    // (test/security/brute-force.test.ts sets its own).
    LOGIN_IP_FREE_FAILURES: '10000',
    REGISTRATION_PER_IP: '10000',
    // tap runs test files side by side, and each waits on its own hashes; at the production
    // default (19) a hash waits whenever another file's event loop has work, which slows the suite
    // without telling anything (test/users/passwords.test.ts checks the nice value itself).
    HASH_NICE: '0',
    ...overrides
  })
}

/** Builds sessiond against the real PostgreSQL and Redis; closed when the test ends. */
export async function build (t: Test, overrides: Record<string, string | undefined> = {}, options: BuildOptions = {}) {
  const app = await buildApp(testConfig(overrides), { logger: false, ...options })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

let counter = 0
/** A unique email per call, so tests never collide in the shared database. */
export function uniqueEmail (label = 'user'): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}-${counter++}@example.test`
}

export const PASSWORD = 'correct horse battery staple'

type App = Awaited<ReturnType<typeof buildApp>>

/** Registers a fresh user through the API; returns the token, cookie and response body. */
export async function register (app: App, fields: { email?: string, password?: string, name?: string } = {}) {
  const email = fields.email ?? uniqueEmail()
  const res = await app.inject({
    method: 'POST',
    url: '/v1/users',
    payload: { email, password: fields.password ?? PASSWORD, ...(fields.name !== undefined ? { name: fields.name } : {}) }
  })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  const body = res.json() as { token: string, user: { id: string, email: string }, session: { id: string } }
  const cookie = res.cookies.find((c) => c.name.endsWith('session'))
  return { email, password: fields.password ?? PASSWORD, token: body.token, body, cookie: `${cookie?.name}=${cookie?.value}` }
}

export async function login (app: App, email: string, password = PASSWORD, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password }, headers })
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
