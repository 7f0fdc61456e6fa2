import type { Test } from 'tap'
import type { SessionStore, SessionUser } from '../../src/sessions/store.js'
import { testClock } from '../helper.js'

export const MIN = 60_000
export const HOUR = 60 * MIN
export const DAY = 24 * HOUR
export const OPTIONS = { idleTtlMs: 7 * DAY, absoluteTtlMs: 30 * DAY, extendThrottleMs: MIN }

type Clock = ReturnType<typeof testClock>
export type MakeStore = (t: Test, clock: Clock) => Promise<SessionStore>

let n = 0
export function aUser (roles = ['user']): SessionUser {
  const hex = (Date.now().toString(16) + (n++).toString(16).padStart(4, '0') + Math.random().toString(16).slice(2)).padEnd(32, '0').slice(0, 32)
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
  return { id, email: `${id}@example.test`, name: 'Contract', roles }
}
const meta = { ip: '192.0.2.1', userAgent: 'contract-test' }

/**
 * The session store contract: every implementation (Redis single node, Redis Cluster, the
 * embedded in-process store) must pass these, so callers never need to know which one runs.
 */
export function storeContract (t: Test, make: MakeStore) {
  t.test('create then validate returns the user snapshot and times', async (t) => {
    const clock = testClock()
    const store = await make(t, clock)
    const user = aUser(['user', 'admin'])
    const { token, session } = await store.create(user, meta)
    t.match(token, /^[A-Za-z0-9_-]{28}\.[A-Za-z0-9_-]{43}$/)
    t.equal(token.split('.')[0], session.id, 'the id is the public part of the token')
    const r = await store.validate(token)
    t.equal(r.status, 'valid')
    if (r.status !== 'valid') return
    t.same(r.session.user, user)
    t.equal(r.session.createdAt, clock.now())
    t.equal(r.session.expiresAt, clock.now() + OPTIONS.idleTtlMs)
    t.equal(r.session.absoluteExpiresAt, clock.now() + OPTIONS.absoluteTtlMs)
    t.equal(r.session.ip, '192.0.2.1')
    t.equal(r.session.userAgent, 'contract-test')
  })

  t.test('wrong secret, unknown id and malformed tokens are invalid', async (t) => {
    const store = await make(t, testClock())
    const { token } = await store.create(aUser(), meta)
    const [id, secret] = token.split('.') as [string, string]
    const flipped = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1)
    const unknownId = (id[27] === 'A' ? id.slice(0, 27) + 'B' : id.slice(0, 27) + 'A')
    for (const bad of [`${id}.${flipped}`, `${unknownId}.${secret}`, '', '.', id, `${token}x`, token.slice(0, -1), `${id}.${secret.replace(/./, '*')}`, 'x'.repeat(10_000)]) {
      t.same(await store.validate(bad), { status: 'invalid' }, `invalid: ${bad.slice(0, 30)}…`)
    }
    t.equal((await store.validate(token)).status, 'valid', 'a wrong guess does not hurt the real session')
  })

  t.test('two sessions of one user, and of two users, are distinct', async (t) => {
    const store = await make(t, testClock())
    const user = aUser()
    const a = await store.create(user, meta)
    const b = await store.create(user, meta)
    const c = await store.create(aUser(), meta)
    t.not(a.token, b.token)
    t.not(a.session.id, b.session.id)
    t.equal(a.session.id.slice(0, 12), b.session.id.slice(0, 12), 'one user, one routing tag')
    t.not(a.session.id.slice(0, 12), c.session.id.slice(0, 12), 'another user, another tag')
    const rc = await store.validate(c.token)
    t.equal(rc.status === 'valid' && rc.session.user.id, c.session.user.id)
  })

  t.test('idle expiry', async (t) => {
    const clock = testClock()
    const store = await make(t, clock)
    const { token } = await store.create(aUser(), meta)
    clock.advance(OPTIONS.idleTtlMs - 1)
    t.equal((await store.validate(token, { extend: false })).status, 'valid', 'valid until the last millisecond')
    clock.advance(1)
    t.equal((await store.validate(token)).status, 'expired')
    t.equal((await store.validate(token)).status, 'invalid', 'and gone afterwards')
  })

  t.test('validation slides the idle expiry, throttled', async (t) => {
    const clock = testClock()
    const store = await make(t, clock)
    const { token, session } = await store.create(aUser(), meta)
    clock.advance(30_000)
    let r = await store.validate(token)
    t.equal(r.status === 'valid' && r.session.expiresAt, session.expiresAt, 'within the throttle window: no write')
    t.equal(r.status === 'valid' && r.session.lastSeenAt, session.lastSeenAt)
    clock.advance(3 * DAY)
    r = await store.validate(token)
    t.equal(r.status === 'valid' && r.session.expiresAt, clock.now() + OPTIONS.idleTtlMs, 'slid to now + idle')
    t.equal(r.status === 'valid' && r.session.lastSeenAt, clock.now())
    clock.advance(6 * DAY)
    t.equal((await store.validate(token, { extend: false })).status, 'valid', 'alive past the first idle expiry')
    const seen = clock.now()
    clock.advance(2 * DAY)
    r = await store.validate(token, { extend: false })
    t.equal(r.status, 'expired', 'extend=false did not slide it')
    t.ok(seen)
  })

  t.test('the absolute lifetime caps sliding', async (t) => {
    const clock = testClock()
    const store = await make(t, clock)
    const { token, session } = await store.create(aUser(), meta)
    for (let day = 6; day < 30; day += 6) {
      clock.set(session.createdAt + day * DAY)
      const r = await store.validate(token)
      t.equal(r.status, 'valid', `alive on day ${day}`)
      if (r.status === 'valid') t.equal(r.session.expiresAt, Math.min(clock.now() + OPTIONS.idleTtlMs, session.absoluteExpiresAt))
    }
    clock.set(session.absoluteExpiresAt - 1)
    const last = await store.validate(token)
    t.equal(last.status === 'valid' && last.session.expiresAt, session.absoluteExpiresAt, 'never beyond the absolute expiry')
    clock.set(session.absoluteExpiresAt)
    t.equal((await store.validate(token)).status, 'expired')
  })

  t.test('get, list (newest first, only mine), and pruning of expired members', async (t) => {
    const clock = testClock()
    const store = await make(t, clock)
    const user = aUser()
    const old = await store.create(user, meta)
    clock.advance(2 * DAY)
    const fresh = await store.create(user, { ip: null, userAgent: null })
    await store.create(aUser(), meta)
    t.same((await store.get(fresh.session.id))?.user, user)
    t.equal(await store.get('nonsense'), null)
    let list = await store.listByUser(user.id)
    t.same(list.map((s) => s.id), [fresh.session.id, old.session.id])
    t.equal(list[0]?.ip, null)
    clock.advance(5 * DAY + 1) // old one passes its idle expiry, the fresh one does not
    list = await store.listByUser(user.id)
    t.same(list.map((s) => s.id), [fresh.session.id], 'the expired one is pruned')
    t.equal(await store.get(old.session.id), null)
    t.same(await store.listByUser(aUser().id), [], 'a user without sessions')
  })

  t.test('revoke: mine, not someone else\'s', async (t) => {
    const store = await make(t, testClock())
    const alice = aUser()
    const bob = aUser()
    const a = await store.create(alice, meta)
    const b = await store.create(bob, meta)
    t.equal(await store.revoke(b.session.id, alice.id), false, 'alice cannot revoke bob\'s session')
    t.equal((await store.validate(b.token)).status, 'valid')
    t.equal(await store.revoke(a.session.id, alice.id), true)
    t.equal((await store.validate(a.token)).status, 'invalid')
    t.equal(await store.revoke(a.session.id, alice.id), false, 'twice: nothing left')
    t.equal(await store.revoke('not-an-id', alice.id), false)
    t.equal(await store.revoke(b.session.id), true, 'without an owner (admin): any session')
    t.equal((await store.validate(b.token)).status, 'invalid')
    t.same(await store.listByUser(bob.id), [])
  })

  t.test('revoke all, with and without an exception', async (t) => {
    const store = await make(t, testClock())
    const user = aUser()
    const other = await store.create(aUser(), meta)
    const tokens = []
    for (let i = 0; i < 5; i++) tokens.push(await store.create(user, meta))
    const keep = tokens[2] as (typeof tokens)[number]
    t.equal(await store.revokeAllForUser(user.id, { except: keep.session.id }), 4)
    for (const s of tokens) t.equal((await store.validate(s.token)).status, s === keep ? 'valid' : 'invalid')
    t.same((await store.listByUser(user.id)).map((s) => s.id), [keep.session.id])
    t.equal(await store.revokeAllForUser(user.id), 1)
    t.equal((await store.validate(keep.token)).status, 'invalid')
    t.equal(await store.revokeAllForUser(user.id), 0)
    t.equal((await store.validate(other.token)).status, 'valid', 'other users untouched')
  })

  t.test('revoke: an unknown id carrying my routing tag, and an id of another user\'s tag, are false', async (t) => {
    const store = await make(t, testClock())
    const alice = aUser()
    const bob = aUser()
    const a = await store.create(alice, meta)
    const b = await store.create(bob, meta)
    const unknownMine = a.session.id.slice(0, 12) + 'A'.repeat(16)
    t.equal(await store.revoke(unknownMine, alice.id), false)
    t.equal(await store.revoke(unknownMine), false)
    // On Redis Cluster another user's tag is another slot: must be a plain false, not a store error.
    t.equal(await store.revoke(b.session.id, alice.id), false)
    t.equal(await store.revoke(a.session.id, bob.id), false)
    t.equal((await store.validate(a.token)).status, 'valid')
    t.equal((await store.validate(b.token)).status, 'valid')
  })

  t.test('revoke and revoke-all count only live sessions (expired ones are dropped, not counted)', async (t) => {
    const clock = testClock()
    const store = await make(t, clock)
    const user = aUser()
    const old1 = await store.create(user, meta)
    const old2 = await store.create(user, meta)
    clock.advance(OPTIONS.idleTtlMs - HOUR)
    const fresh = await store.create(user, meta)
    const fresh2 = await store.create(user, meta)
    clock.advance(HOUR) // old1 and old2 pass their idle expiry
    t.equal(await store.revoke(old1.session.id, user.id), false, 'an expired session is not revoked again')
    t.equal(await store.updateUser({ ...user, name: 'Live only' }), 2, 'updateUser counts live sessions')
    t.equal(await store.revokeAllForUser(user.id, { except: fresh.session.id }), 1, 'only fresh2 was live')
    t.equal((await store.validate(old2.token)).status, 'invalid')
    t.equal((await store.validate(fresh2.token)).status, 'invalid')
    t.same((await store.listByUser(user.id)).map((s) => s.id), [fresh.session.id])
  })

  t.test('many sessions: 1,000 listed, renamed and revoked in one call each', async (t) => {
    const store = await make(t, testClock())
    const user = aUser()
    for (let i = 0; i < 1000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, () => store.create(user, meta)))
    }
    t.equal((await store.listByUser(user.id)).length, 1000)
    t.equal(await store.updateUser({ ...user, roles: ['many'] }), 1000)
    t.equal(await store.revokeAllForUser(user.id), 1000)
    t.same(await store.listByUser(user.id), [])
  })

  t.test('updateUser reaches every live session at the next validate', async (t) => {
    const store = await make(t, testClock())
    const user = aUser()
    const a = await store.create(user, meta)
    const b = await store.create(user, meta)
    const changed = { ...user, name: 'Renamed', roles: ['user', 'admin'] }
    t.equal(await store.updateUser(changed), 2)
    for (const s of [a, b]) {
      const r = await store.validate(s.token)
      t.same(r.status === 'valid' && r.session.user, changed)
    }
  })
}
