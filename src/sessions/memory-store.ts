import type { Clock } from '../clock.js'
import type { SessionMeta, SessionRecord, SessionStore, SessionUser, StoreOptions, ValidateResult } from './store.js'
import { hashSecret, isSessionId, newSecret, newSessionId, parseToken, sameHash } from './token.js'

interface Entry { hash: string, record: SessionRecord }

/**
 * In-process store for the embedded default (`npm start` with no configuration). Same semantics
 * as the Redis store, proven by the shared contract suite; sessions live only as long as the process.
 */
export function createMemorySessionStore ({ clock, options }: { clock: Clock, options: StoreOptions }): SessionStore {
  const sessions = new Map<string, Entry>()
  const byUser = new Map<string, Set<string>>()

  const live = (e: Entry | undefined, now: number) => e !== undefined && now < e.record.expiresAt && now < e.record.absoluteExpiresAt

  function drop (id: string) {
    const e = sessions.get(id)
    if (!e) return false
    sessions.delete(id)
    const set = byUser.get(e.record.user.id)
    set?.delete(id)
    if (set?.size === 0) byUser.delete(e.record.user.id)
    return true
  }

  // Without Redis' own expiry, sweep now and then so an idle dev server does not grow forever.
  const sweeper = setInterval(() => {
    const now = clock.now()
    for (const [id, e] of sessions) if (!live(e, now)) drop(id)
  }, 60_000)
  sweeper.unref()

  const copy = (r: SessionRecord): SessionRecord => ({ ...r, user: { ...r.user, roles: [...r.user.roles] } })

  return {
    kind: 'memory',

    async create (user: SessionUser, meta: SessionMeta) {
      const now = clock.now()
      const id = newSessionId(user.id)
      const secret = newSecret()
      const absoluteExpiresAt = now + options.absoluteTtlMs
      const record: SessionRecord = {
        id,
        user: { id: user.id, email: user.email, name: user.name, roles: [...user.roles] },
        createdAt: now,
        lastSeenAt: now,
        expiresAt: Math.min(now + options.idleTtlMs, absoluteExpiresAt),
        absoluteExpiresAt,
        ip: meta.ip,
        userAgent: meta.userAgent
      }
      sessions.set(id, { hash: hashSecret(secret), record })
      let set = byUser.get(user.id)
      if (!set) byUser.set(user.id, (set = new Set()))
      set.add(id)
      return { token: `${id}.${secret}`, session: copy(record) }
    },

    async validate (token, { extend = true } = {}): Promise<ValidateResult> {
      const parsed = parseToken(token)
      if (!parsed) return { status: 'invalid' }
      const e = sessions.get(parsed.id)
      // Constant-time compare so timing reveals nothing about the stored hash.
      if (!e || !sameHash(e.hash, hashSecret(parsed.secret))) return { status: 'invalid' }
      const now = clock.now()
      if (!live(e, now)) {
        drop(parsed.id)
        return { status: 'expired' }
      }
      const r = e.record
      if (extend && now - r.lastSeenAt >= options.extendThrottleMs) {
        r.lastSeenAt = now
        r.expiresAt = Math.min(now + options.idleTtlMs, r.absoluteExpiresAt)
      }
      return { status: 'valid', session: copy(r) }
    },

    async get (id) {
      const e = sessions.get(id)
      return live(e, clock.now()) ? copy((e as Entry).record) : null
    },

    async listByUser (userId) {
      const now = clock.now()
      const out: SessionRecord[] = []
      for (const id of [...(byUser.get(userId) ?? [])]) {
        const e = sessions.get(id)
        if (live(e, now)) out.push(copy((e as Entry).record))
        else drop(id)
      }
      return out.sort((a, b) => b.createdAt - a.createdAt)
    },

    async revoke (id, userId) {
      if (!isSessionId(id)) return false
      const e = sessions.get(id)
      if (!e || (userId !== undefined && e.record.user.id !== userId)) return false
      // An expired session not yet swept is already gone as far as callers can tell (as in Redis).
      const wasLive = live(e, clock.now())
      drop(id)
      return wasLive
    },

    async revokeAllForUser (userId, { except } = {}) {
      const now = clock.now()
      let n = 0
      for (const id of [...(byUser.get(userId) ?? [])]) {
        if (id === except) continue
        // Count only live sessions, as Redis does (it has already dropped the expired keys).
        if (live(sessions.get(id), now)) n++
        drop(id)
      }
      return n
    },

    async updateUser (user) {
      const now = clock.now()
      let n = 0
      for (const id of byUser.get(user.id) ?? []) {
        const e = sessions.get(id)
        if (!e || !live(e, now)) continue
        e.record.user = { id: user.id, email: user.email, name: user.name, roles: [...user.roles] }
        n++
      }
      return n
    },

    async ping () {},

    async close () {
      clearInterval(sweeper)
      sessions.clear()
      byUser.clear()
    }
  }
}
