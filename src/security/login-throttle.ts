import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../clock.js'
import { RateLimited } from '../errors.js'
import { storeCall } from '../plugins/redis.js'

/*
 * Brute-force protection (SPEC §7). Failed logins are counted per account (the trimmed, lowercased
 * email) and per client IP. Past a number of free failures each further failure doubles a backoff
 * delay (base, 2×base, 4×base, ... capped at `maxBackoffMs`); during it, attempts get 429
 * RATE_LIMITED with Retry-After. A success resets the account's count (not the IP's: a
 * credential-stuffing IP that guesses one account right stays slowed down).
 *
 * Lockout by a third party is bounded, never permanent:
 * - the account delay is a backoff that caps at `maxBackoffMs`, and failures older than `windowMs`
 *   are forgotten, so the account frees itself once the attack stops;
 * - while an account is in backoff, a client IP with no failure in the window may still try:
 *   a correct password logs in (and resets the account), a wrong one marks that IP, which then
 *   waits like everyone else. An attacker on another IP cannot keep the owner out; an attacker
 *   spreading over many IPs gets one extra guess per clean IP per window, still slowed by argon2
 *   and by the IP counters.
 *
 * Keys (one key per call, so every command touches one slot on Redis Cluster; identifiers are
 * hashed so no user input reaches a key name or a hash tag, and every key has a TTL):
 *   <prefix>bf:a:{sha}   account failures: hash n (count), t (last failure, ms)
 *   <prefix>bf:i:{sha}   client IP failures, same fields
 *   <prefix>rr:{sha}     registrations from one IP in the current fixed window (INCR + PEXPIRE)
 */

export interface ThrottleOptions {
  enabled: boolean
  accountFreeFailures: number
  ipFreeFailures: number
  baseBackoffMs: number
  maxBackoffMs: number
  windowMs: number
  registrationsPerIp: number
  registrationWindowMs: number
}

export interface LoginThrottle {
  /**
   * Throws RateLimited (429, with `retryAfter` seconds) when this IP, or this account from an IP
   * that already failed, must wait. Call before verifying a password.
   */
  assertAllowed(account: string, ip: string): Promise<Allowed>
  /** Records a wrong password (login, or a wrong current password on password change). */
  recordFailure(account: string, ip: string): Promise<void>
  /**
   * Records a correct password: the account's failures are forgotten. Given what assertAllowed
   * answered for this attempt, it skips the reset when the account had none on record then (the
   * usual login), so a login costs one Redis round trip less. A failure recorded while this attempt
   * was hashing then stays counted: it can only slow a guesser, never lock anyone out for good.
   */
  recordSuccess(account: string, allowed: Allowed): Promise<void>
  /** Counts one registration attempt from this IP; throws RateLimited past the limit. */
  assertRegistrationAllowed(ip: string): Promise<void>
}

/** What assertAllowed saw, for recordSuccess. */
export interface Allowed {
  /** The account had a failure entry on record when it was checked, so a success has one to reset. */
  accountFailures: boolean
}

/** What a backend keeps per key: failures in the window and when the last one happened. */
interface Entry { n: number, last: number }

interface Backend {
  /** Reads several keys at once (one Redis round trip). */
  read(keys: string[]): Promise<Array<Entry | null>>
  /** Adds one failure; the count restarts at 1 when the last failure is older than the window. */
  fail(key: string, now: number, freeFailures: number): Promise<void>
  reset(key: string): Promise<void>
  /** Fixed-window counter: returns the count including this hit and the ms left in the window. */
  hit(key: string, windowMs: number): Promise<{ count: number, resetMs: number }>
}

const digest = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 22)
export const normalizeAccount = (email: string) => email.trim().toLowerCase()

function rateLimited (ms: number): Error {
  const seconds = Math.max(1, Math.ceil(ms / 1000))
  return Object.assign(new RateLimited(seconds), { retryAfter: seconds })
}

const backoff = (n: number, free: number, base: number, max: number) =>
  n > free ? Math.min(base * 2 ** (n - free - 1), max) : 0

// One failure, atomically: decay, count, and keep the key at least as long as the window and the
// backoff it now imposes. KEYS[1] entry; ARGV now, window, free failures, base ms, max ms.
const FAIL = `
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local f = redis.call('HMGET', KEYS[1], 'n', 't')
local n = tonumber(f[1]) or 0
if f[2] and now - tonumber(f[2]) >= window then n = 0 end
n = n + 1
local delay = 0
local over = n - tonumber(ARGV[3])
if over > 0 then delay = math.min(tonumber(ARGV[4]) * 2 ^ (over - 1), tonumber(ARGV[5])) end
redis.call('HSET', KEYS[1], 'n', n, 't', ARGV[1])
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.max(window, delay)))
return n
`

// KEYS[1] counter; ARGV[1] window ms. Returns { count, ms left }.
const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { n, ttl }
`

type ThrottleCommands = {
  bfFail(key: string, ...args: string[]): Promise<number>
  bfHit(key: string, windowMs: string): Promise<[number, number]>
}

export function redisBackend (redis: Redis | Cluster, options: ThrottleOptions, timeoutMs = 500): Backend {
  const r = redis as (Redis | Cluster) & Partial<ThrottleCommands>
  if (typeof r.bfFail !== 'function') {
    r.defineCommand('bfFail', { numberOfKeys: 1, lua: FAIL })
    r.defineCommand('bfHit', { numberOfKeys: 1, lua: HIT })
  }
  const c = r as (Redis | Cluster) & ThrottleCommands
  // A Redis failure here is the same outage validate sees: 503, never a silent pass.
  const call = storeCall(timeoutMs, redis)
  return {
    async read (keys) {
      // Issued together and batched into one write (on a cluster, one per node).
      const rows = await call(() => Promise.all(keys.map((key) => c.hmget(key, 'n', 't'))), true)
      return rows.map(([n, t]) => n === null ? null : { n: Number(n), last: Number(t) })
    },
    async fail (key, now, freeFailures) {
      await call(() => c.bfFail(key, String(now), String(options.windowMs), String(freeFailures),
        String(options.baseBackoffMs), String(options.maxBackoffMs)))
    },
    async reset (key) { await call(() => c.del(key)) },
    async hit (key, windowMs) {
      const [count, resetMs] = await call(() => c.bfHit(key, String(windowMs)))
      return { count, resetMs }
    }
  }
}

/** Embedded mode: the same rules in process memory (one process, so nothing to share). */
export function memoryBackend (clock: Clock, options: ThrottleOptions): Backend {
  const entries = new Map<string, Entry & { expiresAt: number }>()
  const counters = new Map<string, { count: number, expiresAt: number }>()
  const sweep = () => {
    const now = clock.now()
    if (entries.size > 10_000) for (const [k, e] of entries) if (e.expiresAt <= now) entries.delete(k)
    if (counters.size > 10_000) for (const [k, e] of counters) if (e.expiresAt <= now) counters.delete(k)
  }
  return {
    async read (keys) {
      const now = clock.now()
      return keys.map((key) => {
        const e = entries.get(key)
        return e && e.expiresAt > now ? e : null
      })
    },
    async fail (key, now, freeFailures) {
      sweep()
      const prev = entries.get(key)
      const n = prev && prev.expiresAt > now && now - prev.last < options.windowMs ? prev.n + 1 : 1
      const delay = backoff(n, freeFailures, options.baseBackoffMs, options.maxBackoffMs)
      entries.set(key, { n, last: now, expiresAt: now + Math.max(options.windowMs, delay) })
    },
    async reset (key) { entries.delete(key) },
    async hit (key, windowMs) {
      sweep()
      const now = clock.now()
      let c = counters.get(key)
      if (!c || c.expiresAt <= now) {
        c = { count: 0, expiresAt: now + windowMs }
        counters.set(key, c)
      }
      c.count++
      return { count: c.count, resetMs: c.expiresAt - now }
    }
  }
}

export function createLoginThrottle ({ backend, clock, options, prefix }: {
  backend: Backend
  clock: Clock
  options: ThrottleOptions
  prefix: string
}): LoginThrottle {
  const accountKey = (account: string) => `${prefix}bf:a:{${digest(normalizeAccount(account))}}`
  const ipKey = (ip: string) => `${prefix}bf:i:{${digest(ip)}}`
  // Time left in backoff, from the failures in the window and the time of the last one.
  const remaining = (e: Entry | null, free: number, now: number) => {
    if (!e || now - e.last >= options.windowMs) return { ms: 0, failures: 0 }
    const delay = backoff(e.n, free, options.baseBackoffMs, options.maxBackoffMs)
    return { ms: Math.max(0, e.last + delay - now), failures: e.n }
  }

  return {
    async assertAllowed (account, ip) {
      if (!options.enabled) return { accountFailures: false }
      const now = clock.now()
      const [a = null, i = null] = await backend.read([accountKey(account), ipKey(ip)])
      const byIp = remaining(i, options.ipFreeFailures, now)
      const byAccount = remaining(a, options.accountFreeFailures, now)
      // An IP with no recent failure may still try an account in backoff (see the header comment).
      const wait = Math.max(byIp.ms, byIp.failures > 0 ? byAccount.ms : 0)
      if (wait > 0) throw rateLimited(wait)
      // Any entry counts, even one older than the window: a success then drops it early.
      return { accountFailures: a !== null }
    },
    async recordFailure (account, ip) {
      if (!options.enabled) return
      const now = clock.now()
      await Promise.all([
        backend.fail(accountKey(account), now, options.accountFreeFailures),
        backend.fail(ipKey(ip), now, options.ipFreeFailures)
      ])
    },
    async recordSuccess (account, allowed) {
      if (!options.enabled || !allowed.accountFailures) return
      await backend.reset(accountKey(account))
    },
    async assertRegistrationAllowed (ip) {
      if (!options.enabled || options.registrationsPerIp === 0) return
      const { count, resetMs } = await backend.hit(`${prefix}rr:{${digest(ip)}}`, options.registrationWindowMs)
      if (count > options.registrationsPerIp) throw rateLimited(resetMs)
    }
  }
}
