import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../clock.js'
import { StoreUnavailable } from '../errors.js'
import { storeCall } from '../plugins/redis.js'
import type { SessionMeta, SessionRecord, SessionStore, SessionUser, StoreOptions, ValidateResult } from './store.js'
import { recentSessions } from './recent.js'
import { hashSecret, isSessionId, newSecret, newSessionId, parseToken, sameHash, TAG_LENGTH, userTag } from './token.js'

/*
 * Keys (every key of one user shares the hash tag `{tag}`, so each script below touches one slot
 * and works unchanged on Redis Cluster):
 *   <prefix>s:{tag}rest   session: one string (layout below), PEXPIREAT its idle expiry
 *   <prefix>u:{tag}<uid>  sorted set: the user's session ids, scored by absolute expiry
 * Redis itself forgets dead sessions; the index is pruned by score and by missing keys as it is read.
 *
 * Session value, a plain string with a fixed-width head so Lua reads fields with string.sub and
 * slides the expiry in place with SETRANGE (a hash of these fields would exceed Redis'
 * listpack limits and cost ~2.5x the memory):
 *   [1..43]  SHA-256 of the secret, base64url
 *   [44..56] createdAt   [57..69] lastSeenAt   [70..82] idle expiry   [83..95] absolute expiry
 *            (ms since the epoch, 13 zero-padded digits)
 *   [96..]   JSON [ip, userAgent] "\n" JSON [id, email, name, roles]
 */
const HEAD = 95
const pad = (ms: number) => String(ms).padStart(13, '0')

// KEYS[1] session, KEYS[2] index; ARGV[1] id, ARGV[2] value, ARGV[3] idle expiry, ARGV[4] absolute
// expiry, ARGV[5] now.
const CREATE = `
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
-- prune index members past their absolute expiry, then add this one
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
if redis.call('PEXPIRETIME', KEYS[2]) < tonumber(ARGV[4]) then redis.call('PEXPIREAT', KEYS[2], ARGV[4]) end
return 1
`

// Read, check, and slide in one round trip; validate() runs it when a slide may be due, a plain GET
// otherwise. KEYS[1] session; ARGV[1] secret hash, ARGV[2] now, ARGV[3] now + idle TTL, ARGV[4] now -
// throttle (times as 13 digits, like the value's), ARGV[5] '1' to extend.
// Times are compared as the 13-digit strings they are: for digit strings of one length the order
// of the strings is the order of the numbers (Lua compares with strcoll, and no locale orders the
// digits otherwise). The caller does the arithmetic: tonumber and string.format were a third of
// the script's time in Redis (bench/findings.md).
const VALIDATE = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
-- Lua interns strings: this equality is a pointer compare, its time independent of matching bytes.
-- A wrong secret neither reads nor extends the session.
if string.sub(v, 1, 43) ~= ARGV[1] then return false end
local now, a = ARGV[2], string.sub(v, 83, 95)
if now >= string.sub(v, 70, 82) or now >= a then
  redis.call('DEL', KEYS[1])
  return 0
end
if ARGV[5] == '1' and string.sub(v, 57, 69) <= ARGV[4] then
  local es = ARGV[3]
  if a < es then es = a end
  redis.call('SETRANGE', KEYS[1], 56, now .. es)
  redis.call('PEXPIREAT', KEYS[1], es)
  return string.sub(v, 1, 56) .. now .. es .. string.sub(v, 83)
end
return v
`

// Lua: is the session value v live at now?
const LIVE = `
local function live (v, now)
  return v and now < tonumber(string.sub(v, 70, 82)) and now < tonumber(string.sub(v, 83, 95))
end
`

// KEYS[1] index, KEYS[2] session; ARGV[1] id, ARGV[2] '1' to require that the index holds the id,
// ARGV[3] now. Returns 1 only if a live session was revoked (an expired one is dropped all the same).
const REVOKE = LIVE + `
if ARGV[2] == '1' and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
local v = redis.call('GET', KEYS[2])
redis.call('DEL', KEYS[2])
if live(v, tonumber(ARGV[3])) then return 1 end
return 0
`

// KEYS[1] index, KEYS[2..n] sessions; ARGV[1] now, ARGV[2..n] their ids.
// Returns id, value pairs of the live sessions; drops index members whose session is gone or expired.
const FETCH = LIVE + `
local now = tonumber(ARGV[1])
local out = {}
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if live(v, now) then
    out[#out + 1] = ARGV[i]
    out[#out + 1] = v
  else
    redis.call('ZREM', KEYS[1], ARGV[i])
    if v then redis.call('DEL', KEYS[i]) end
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
const FOR_ALL = LIVE + `
local listed = {}
for i = 4, #ARGV do listed[ARGV[i]] = true end
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if not listed[m] then return -1 end
end
local now = tonumber(ARGV[3])
local n = 0
for i = 2, #KEYS do
  local id = ARGV[i + 2]
  local v = redis.call('GET', KEYS[i])
  local alive = live(v, now)
  if ARGV[1] == 'revoke' then
    if id ~= ARGV[2] then
      redis.call('DEL', KEYS[i])
      redis.call('ZREM', KEYS[1], id)
      if alive then n = n + 1 end
    end
  elseif alive then
    -- keep the head and [ip, userAgent]; replace the user snapshot after the newline
    local nl = string.find(v, '\\n', ${HEAD + 1}, true)
    redis.call('SET', KEYS[i], string.sub(v, 1, nl) .. ARGV[2], 'KEEPTTL')
    n = n + 1
  elseif not v then
    -- Redis already expired this session: prune its index member while we are here.
    redis.call('ZREM', KEYS[1], id)
  end
end
return n
`

// The user snapshot as a JSON array: the field names would cost bytes in every session.
const encodeUser = (u: SessionUser) => JSON.stringify([u.id, u.email, u.name, u.roles])
function decodeUser (json: string): SessionUser {
  const [id, email, name, roles] = JSON.parse(json) as [string, string, string | null, string[]]
  return { id, email, name, roles }
}

type RedisClient = Redis | Cluster

interface SessionCommands {
  sessCreate(k1: string, k2: string, ...args: string[]): Promise<number>
  sessValidate(k1: string, ...args: string[]): Promise<string | 0 | null>
  sessRevoke(k1: string, k2: string, id: string, requireMember: string, now: string): Promise<number>
  sessFetch(...args: (string | number)[]): Promise<string[]>
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

export function createRedisSessionStore ({ redis, prefix, clock, options, timeoutMs = 500 }: {
  redis: RedisClient
  prefix: string
  clock: Clock
  options: StoreOptions
  /** bound on each store call, queueing included (REDIS_COMMAND_TIMEOUT_MS) */
  timeoutMs?: number
}): SessionStore {
  const r = defineCommands(redis)
  const sessionKey = (id: string) => `${prefix}s:{${id.slice(0, TAG_LENGTH)}}${id.slice(TAG_LENGTH)}`
  const indexKey = (userId: string) => `${prefix}u:{${userTag(userId)}}${userId}`

  // Session id -> the lastSeenAt this process last read from Redis: only to choose between the
  // script and a plain GET in validate(), never to answer.
  const lastSeen = recentSessions()

  // Every Redis failure or a call that outlives timeoutMs: the store is unavailable (503, never 401).
  const call = storeCall(timeoutMs, redis)

  function toRecord (id: string, v: string): SessionRecord {
    const nl = v.indexOf('\n', HEAD)
    const [ip, userAgent] = JSON.parse(v.slice(HEAD, nl)) as [string | null, string | null]
    return {
      id,
      user: decodeUser(v.slice(nl + 1)),
      createdAt: Number(v.slice(43, 56)),
      lastSeenAt: Number(v.slice(56, 69)),
      expiresAt: Number(v.slice(69, 82)),
      absoluteExpiresAt: Number(v.slice(82, 95)),
      ip,
      userAgent
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
      const value = hashSecret(secret) + pad(now) + pad(now) + pad(expiresAt) + pad(absoluteExpiresAt) +
        JSON.stringify([meta.ip, meta.userAgent]) + '\n' + encodeUser(snapshot)
      await call(() => r.sessCreate(sessionKey(id), indexKey(user.id), id, value, String(expiresAt), String(absoluteExpiresAt), String(now)))
      return {
        token: `${id}.${secret}`,
        session: { id, user: snapshot, createdAt: now, lastSeenAt: now, expiresAt, absoluteExpiresAt, ip: meta.ip, userAgent: meta.userAgent }
      }
    },

    async validate (token, { extend = true } = {}): Promise<ValidateResult> {
      const parsed = parseToken(token)
      if (!parsed) return { status: 'invalid' }
      const { id } = parsed
      const hash = hashSecret(parsed.secret)
      const key = sessionKey(id)
      const now = clock.now()
      // One round trip either way. Where the last lastSeenAt this process read is inside the
      // throttle window, the script would not write: a plain GET does the same for less (Redis
      // runs no script, the command is a third of the size), with the checks done here.
      const seen = lastSeen.get(id)
      const v = extend && (seen === undefined || now - seen >= options.extendThrottleMs)
        ? await call(() => r.sessValidate(key, hash, pad(now), pad(now + options.idleTtlMs), pad(now - options.extendThrottleMs), '1'))
        : await call(() => r.get(key))
      if (v === null || v === 0) {
        lastSeen.forget(id)
        return { status: v === 0 ? 'expired' : 'invalid' }
      }
      // Constant-time here, whatever the script compared.
      if (!sameHash(v.slice(0, 43), hash)) return { status: 'invalid' }
      const session = toRecord(id, v)
      if (now >= session.expiresAt || now >= session.absoluteExpiresAt) {
        // Redis drops a session at its idle expiry by itself; this catches a clock running ahead of Redis'.
        lastSeen.forget(id)
        await call(() => r.del(key))
        return { status: 'expired' }
      }
      lastSeen.set(id, session.lastSeenAt)
      return { status: 'valid', session }
    },

    async get (id) {
      if (!isSessionId(id)) return null
      const v = await call(() => r.get(sessionKey(id)))
      if (v === null) return null
      const record = toRecord(id, v)
      return clock.now() >= record.expiresAt ? null : record
    },

    async listByUser (userId) {
      const ids = await readIndex(userId)
      if (ids.length === 0) return []
      const rows = await call(() => r.sessFetch(1 + ids.length, indexKey(userId), ...ids.map(sessionKey), String(clock.now()), ...ids))
      const out: SessionRecord[] = []
      for (let i = 0; i + 1 < rows.length; i += 2) out.push(toRecord(rows[i] as string, rows[i + 1] as string))
      return out.sort((a, b) => b.createdAt - a.createdAt)
    },

    async revoke (id, userId) {
      if (!isSessionId(id)) return false
      // An id whose routing tag is not this user's cannot be theirs; checking here also keeps the
      // script below from touching two slots (CROSSSLOT on a cluster, which would surface as a 503).
      if (userId !== undefined && id.slice(0, TAG_LENGTH) !== userTag(userId)) return false
      let owner = userId
      if (owner === undefined) {
        const v = await call(() => r.get(sessionKey(id)))
        if (v === null) return false
        owner = toRecord(id, v).user.id
      }
      const n = await call(() => r.sessRevoke(indexKey(owner), sessionKey(id), id, userId === undefined ? '0' : '1', String(clock.now())))
      return n === 1
    },

    async revokeAllForUser (userId, { except } = {}) {
      return await forAll(userId, 'revoke', except ?? '')
    },

    async updateUser (user) {
      const snapshot: SessionUser = { id: user.id, email: user.email, name: user.name, roles: user.roles }
      return await forAll(user.id, 'update', encodeUser(snapshot))
    },

    async ping () {
      await call(() => r.ping())
    },

    async close () {
      // The Redis client is owned (and closed) by the redis plugin.
    }
  }
}
