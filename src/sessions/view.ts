import type { Session, User } from '../schemas.js'
import type { SessionRecord, SessionUser } from './store.js'

const DAY_MS = 86_400_000
const dayPrefixes = new Map<number, string>()
const pad2 = (n: number) => (n < 10 ? '0' : '') + n
const pad3 = (n: number) => (n < 10 ? '00' : n < 100 ? '0' : '') + n

/**
 * new Date(ms).toISOString(), for the times a session can hold (1970 to 9999): the "YYYY-MM-DDT"
 * of each day is made once, the time of day by arithmetic. Four dates per validate response cost
 * ~2.5 µs with Date, a tenth of that here (test/sessions/view.test.ts compares the two).
 */
export function iso (ms: number): string {
  const day = Math.floor(ms / DAY_MS)
  let prefix = dayPrefixes.get(day)
  if (prefix === undefined) {
    if (dayPrefixes.size >= 1024) dayPrefixes.clear()
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11)
    dayPrefixes.set(day, prefix)
  }
  let rest = ms - day * DAY_MS
  const h = Math.floor(rest / 3_600_000)
  rest -= h * 3_600_000
  const m = Math.floor(rest / 60_000)
  rest -= m * 60_000
  const s = Math.floor(rest / 1000)
  return prefix + pad2(h) + ':' + pad2(m) + ':' + pad2(s) + '.' + pad3(rest - s * 1000) + 'Z'
}

export function toSession (r: SessionRecord, currentId?: string): Session {
  const s: Session = {
    id: r.id,
    createdAt: iso(r.createdAt),
    lastSeenAt: iso(r.lastSeenAt),
    expiresAt: iso(r.expiresAt),
    absoluteExpiresAt: iso(r.absoluteExpiresAt),
    ip: r.ip,
    userAgent: r.userAgent
  }
  if (currentId !== undefined) s.current = r.id === currentId
  return s
}

export function toUser (u: SessionUser): User {
  return { id: u.id, email: u.email, name: u.name, roles: u.roles }
}

export function toSessionView (r: SessionRecord, current = true) {
  // The response schema serializes only User's fields, so the snapshot needs no copy here.
  return { user: r.user, session: toSession(r, current ? r.id : undefined) }
}

// A string needs JSON escapes only with a quote, a backslash, a control character or a surrogate
// (JSON.stringify writes lone ones as \u escapes); most never have one.
// eslint-disable-next-line no-control-regex -- control characters are exactly what needs escaping
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/
const str = (s: string | null) => s === null ? 'null' : NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"'
function strs (a: readonly string[]): string {
  let out = '['
  for (let i = 0; i < a.length; i++) out += (i === 0 ? '' : ',') + str(a[i] as string)
  return out + ']'
}

/**
 * toSessionView(r, current) as JSON, for the answers on the validate path (validate, whoami). It
 * writes what the SessionView schema's serializer writes, byte for byte (a property test compares
 * the two, test/sessions/view.test.ts), in a third of the time: the dates are ours and need no
 * escaping, and JSON.stringify runs only for a string that needs escapes.
 */
export function sessionViewJson (r: SessionRecord, current = true): string {
  const u = r.user
  return '{"user":{"id":' + str(u.id) + ',"email":' + str(u.email) + ',"name":' + str(u.name) +
    ',"roles":' + strs(u.roles) + '},"session":{"id":' + str(r.id) +
    ',"createdAt":"' + iso(r.createdAt) + '","lastSeenAt":"' + iso(r.lastSeenAt) +
    '","expiresAt":"' + iso(r.expiresAt) + '","absoluteExpiresAt":"' + iso(r.absoluteExpiresAt) +
    '","ip":' + str(r.ip) + ',"userAgent":' + str(r.userAgent) + (current ? ',"current":true}}' : '}}')
}
