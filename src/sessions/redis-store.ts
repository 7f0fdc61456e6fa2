import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../clock.js'
import { StoreUnavailable } from '../errors.js'
import type { SessionMeta, SessionRecord, SessionStore, SessionUser, StoreOptions, ValidateResult } from './store.js'
import { hashSecret, isSessionId, newSecret, newSessionId, parseToken, sameHash, TAG_LENGTH, userTag } from './token.js'

/*
 * Keys (every key of one user shares the hash tag `{tag}`, so each script below touches one slot
 * and works unchanged on Redis Cluster):
 *   <prefix>s:{tag}rest   session hash: h (secret SHA-256), d (user JSON), c, l, e, a (ms), ip, ua
 *   <prefix>u:{tag}<uid>  sorted set: the user's session ids, scored by absolute expiry
 * The session key expires with PEXPIREAT at its idle expiry (capped by the absolute one), so Redis
 * itself forgets dead sessions; the index is pruned by score and by missing keys as it is read.
 */

const FIELDS = ['h', 'd', 'c', 'l', 'e', 'a', 'ip', 'ua'] as const

// Lua numbers print as %.14g; format integers explicitly so millisecond timestamps stay exact.
const CREATE = `
redis.call('HSET', KEYS[1], 'h', ARGV[2], 'd', ARGV[3], 'c', ARGV[4], 'l', ARGV[4], 'e', ARGV[5], 'a', ARGV[6], 'ip', ARGV[7], 'ua', ARGV[8])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
-- prune index members past their absolute expiry, then add this one
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
if redis.call('PEXPIRETIME', KEYS[2]) < tonumber(ARGV[6]) then redis.call('PEXPIREAT', KEYS[2], ARGV[6]) end
return 1
`

// The hot path: read, check, and slide in one round trip.
const VALIDATE = `
local f = redis.call('HMGET', KEYS[1], 'h', 'd', 'c', 'l', 'e', 'a', 'ip', 'ua')
if not f[1] then return false end
-- Lua interns strings: this equality is a pointer compare, its time independent of matching bytes.
-- A wrong secret neither reads nor extends the session.
if f[1] ~= ARGV[1] then return false end
local now = tonumber(ARGV[2])
local l, e, a = tonumber(f[4]), tonumber(f[5]), tonumber(f[6])
if now >= e or now >= a then
  redis.call('DEL', KEYS[1])
  return 0
end
if ARGV[5] == '1' and now - l >= tonumber(ARGV[4]) then
  l = now
  e = math.min(now + tonumber(ARGV[3]), a)
  local es = string.format('%.0f', e)
  redis.call('HSET', KEYS[1], 'l', ARGV[2], 'e', es)
  redis.call('PEXPIREAT', KEYS[1], es)
  f[4] = ARGV[2]
  f[5] = es
end
return f
`

// KEYS[1] index, KEYS[2] session; ARGV[1] id, ARGV[2] '1' to require that the index holds the id,
// ARGV[3] now. Returns 1 only if a live session was revoked (an expired one is dropped all the same).
const REVOKE = `
if ARGV[2] == '1' and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
local ea = redis.call('HMGET', KEYS[2], 'e', 'a')
redis.call('DEL', KEYS[2])
local now = tonumber(ARGV[3])
if ea[1] and now < tonumber(ea[1]) and now < tonumber(ea[2]) then return 1 end
return 0
`

// KEYS[1] index, KEYS[2..n] sessions; ARGV[1] now, ARGV[2..n] their ids.
// Returns the fields of each live session; drops index members whose session is gone or expired.
const FETCH = `
local now = tonumber(ARGV[1])
local out = {}
for i = 2, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'h', 'd', 'c', 'l', 'e', 'a', 'ip', 'ua')
  if not f[1] or now >= tonumber(f[5]) or now >= tonumber(f[6]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    if f[1] then redis.call('DEL', KEYS[i]) end
  else
    f[1] = ARGV[i]
    out[#out + 1] = f
  end
end
return out
`

// Applies an operation to every session of a user. KEYS[1] index, KEYS[2..n] sessions;
// ARGV[1] operation ('revoke' | 'update'), ARGV[2] operand (id to keep | user JSON), ARGV[3] now,
// ARGV[4..n] ids. Counts only sessions still live at `now` (Redis' own expiry may lag the service
// clock by a little), and a revoke drops expired ones all the same.
// The caller read the index just before; if a session was added since, it is told to read again
// (-1), so "revoke all" never misses one created concurrently.
const FOR_ALL = `
local listed = {}
for i = 4, #ARGV do listed[ARGV[i]] = true end
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if not listed[m] then return -1 end
end
local now = tonumber(ARGV[3])
local n = 0
for i = 2, #KEYS do
  local id = ARGV[i + 2]
  local ea = redis.call('HMGET', KEYS[i], 'e', 'a')
  local live = ea[1] and now < tonumber(ea[1]) and now < tonumber(ea[2])
  if ARGV[1] == 'revoke' then
    if id ~= ARGV[2] then
      redis.call('DEL', KEYS[i])
      redis.call('ZREM', KEYS[1], id)
      if live then n = n + 1 end
    end
  elseif live then
    redis.call('HSET', KEYS[i], 'd', ARGV[2])
    n = n + 1
  elseif not ea[1] then
    -- Redis already expired this session: prune its index member while we are here.
    redis.call('ZREM', KEYS[1], id)
  end
end
return n
`

type RedisClient = Redis | Cluster
type Fields = [string | null, string | null, string | null, string | null, string | null, string | null, string | null, string | null]

interface SessionCommands {
  sessCreate(k1: string, k2: string, ...args: string[]): Promise<number>
  sessValidate(k1: string, ...args: string[]): Promise<Fields | 0 | null>
  sessRevoke(k1: string, k2: string, id: string, requireMember: string, now: string): Promise<number>
  sessFetch(...args: (string | number)[]): Promise<Fields[]>
  sessForAll(...args: (string | number)[]): Promise<number>
}

function defineCommands (redis: RedisClient): RedisClient & SessionCommands {
  const r = redis as RedisClient & Partial<SessionCommands>
  if (typeof r.sessValidate !== 'function') {
    r.defineCommand('sessCreate', { numberOfKeys: 2, lua: CREATE })
    r.defineCommand('sessValidate', { numberOfKeys: 1, lua: VALIDATE })
    r.defineCommand('sessRevoke', { numberOfKeys: 2, lua: REVOKE })
    r.defineCommand('sessFetch', { lua: FETCH })
    r.defineCommand('sessForAll', { lua: FOR_ALL })
  }
  return r as RedisClient & SessionCommands
}

export function createRedisSessionStore ({ redis, prefix, clock, options }: {
  redis: RedisClient
  prefix: string
  clock: Clock
  options: StoreOptions
}): SessionStore {
  const r = defineCommands(redis)
  const sessionKey = (id: string) => `${prefix}s:{${id.slice(0, TAG_LENGTH)}}${id.slice(TAG_LENGTH)}`
  const indexKey = (userId: string) => `${prefix}u:{${userTag(userId)}}${userId}`

  // Every Redis failure (refused, timed out, cluster down, read-only replica during failover) means
  // the store is unavailable: callers answer 503, never 401.
  async function call<T> (fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw new StoreUnavailable({ cause: err })
    }
  }

  function toRecord (id: string, f: Fields): SessionRecord {
    return {
      id,
      user: JSON.parse(f[1] as string) as SessionUser,
      createdAt: Number(f[2]),
      lastSeenAt: Number(f[3]),
      expiresAt: Number(f[4]),
      absoluteExpiresAt: Number(f[5]),
      ip: f[6] || null,
      userAgent: f[7] || null
    }
  }

  async function readIndex (userId: string): Promise<string[]> {
    return await call(() => r.zrange(indexKey(userId), '0', '-1'))
  }

  async function forAll (userId: string, op: 'revoke' | 'update', operand: string): Promise<number> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const ids = await readIndex(userId)
      const n = await call(() => r.sessForAll(1 + ids.length, indexKey(userId), ...ids.map(sessionKey), op, operand, String(clock.now()), ...ids))
      if (n >= 0) return n
    }
    throw new StoreUnavailable({ cause: new Error('session index kept changing during ' + op) })
  }

  return {
    kind: 'redis',

    async create (user, meta: SessionMeta) {
      const now = clock.now()
      const id = newSessionId(user.id)
      const secret = newSecret()
      const absoluteExpiresAt = now + options.absoluteTtlMs
      const expiresAt = Math.min(now + options.idleTtlMs, absoluteExpiresAt)
      const snapshot: SessionUser = { id: user.id, email: user.email, name: user.name, roles: user.roles }
      await call(() => r.sessCreate(sessionKey(id), indexKey(user.id), id, hashSecret(secret), JSON.stringify(snapshot),
        String(now), String(expiresAt), String(absoluteExpiresAt), meta.ip ?? '', meta.userAgent ?? ''))
      return {
        token: `${id}.${secret}`,
        session: { id, user: snapshot, createdAt: now, lastSeenAt: now, expiresAt, absoluteExpiresAt, ip: meta.ip, userAgent: meta.userAgent }
      }
    },

    async validate (token, { extend = true } = {}): Promise<ValidateResult> {
      const parsed = parseToken(token)
      if (!parsed) return { status: 'invalid' }
      const hash = hashSecret(parsed.secret)
      const f = await call(() => r.sessValidate(sessionKey(parsed.id), hash, String(clock.now()),
        String(options.idleTtlMs), String(options.extendThrottleMs), extend ? '1' : '0'))
      if (f === null) return { status: 'invalid' }
      if (f === 0) return { status: 'expired' }
      // The script already compared; compare again in constant time where we control the code.
      if (!sameHash(f[0] as string, hash)) return { status: 'invalid' }
      return { status: 'valid', session: toRecord(parsed.id, f) }
    },

    async get (id) {
      if (!isSessionId(id)) return null
      const f = await call(() => r.hmget(sessionKey(id), ...FIELDS)) as Fields
      if (f[0] === null) return null
      const record = toRecord(id, f)
      return clock.now() >= record.expiresAt ? null : record
    },

    async listByUser (userId) {
      const ids = await readIndex(userId)
      if (ids.length === 0) return []
      const rows = await call(() => r.sessFetch(1 + ids.length, indexKey(userId), ...ids.map(sessionKey), String(clock.now()), ...ids))
      return rows.map((f) => toRecord(f[0] as string, f)).sort((a, b) => b.createdAt - a.createdAt)
    },

    async revoke (id, userId) {
      if (!isSessionId(id)) return false
      // An id whose routing tag is not this user's cannot be theirs; checking here also keeps the
      // script below from touching two slots (CROSSSLOT on a cluster, which would surface as a 503).
      if (userId !== undefined && id.slice(0, TAG_LENGTH) !== userTag(userId)) return false
      let owner = userId
      if (owner === undefined) {
        const d = await call(() => r.hget(sessionKey(id), 'd'))
        if (d === null) return false
        owner = (JSON.parse(d) as SessionUser).id
      }
      const n = await call(() => r.sessRevoke(indexKey(owner), sessionKey(id), id, userId === undefined ? '0' : '1', String(clock.now())))
      return n === 1
    },

    async revokeAllForUser (userId, { except } = {}) {
      return await forAll(userId, 'revoke', except ?? '')
    },

    async updateUser (user) {
      const snapshot: SessionUser = { id: user.id, email: user.email, name: user.name, roles: user.roles }
      return await forAll(user.id, 'update', JSON.stringify(snapshot))
    },

    async ping () {
      await call(() => r.ping())
    },

    async close () {
      // The Redis client is owned (and closed) by the redis plugin.
    }
  }
}
