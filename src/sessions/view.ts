import type { Session, User } from '../schemas.js'
import type { SessionRecord, SessionUser } from './store.js'

const iso = (ms: number) => new Date(ms).toISOString()

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
  return { user: toUser(r.user), session: toSession(r, current ? r.id : undefined) }
}
