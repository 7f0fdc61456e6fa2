/** What validate needs to answer "who is this?" without touching Postgres. */
export interface SessionUser {
  id: string
  email: string
  name: string | null
  roles: string[]
}

export interface SessionRecord {
  id: string
  user: SessionUser
  createdAt: number
  lastSeenAt: number
  /** Idle expiry, already capped by absoluteExpiresAt. */
  expiresAt: number
  absoluteExpiresAt: number
  ip: string | null
  userAgent: string | null
}

export type ValidateResult =
  | { status: 'valid', session: SessionRecord }
  | { status: 'invalid' }
  | { status: 'expired' }

export interface SessionMeta {
  ip: string | null
  userAgent: string | null
}

/**
 * The session store. Two implementations (Redis, in-process) pass one contract suite
 * (test/sessions/store-contract.ts); nothing outside sessions/ knows which one runs.
 * Every method may reject with StoreUnavailable when the backing store is down.
 */
export interface SessionStore {
  readonly kind: 'redis' | 'memory'
  create(user: SessionUser, meta: SessionMeta): Promise<{ token: string, session: SessionRecord }>
  /** Resolves a token; slides the idle expiry unless `extend` is false. Bad tokens are `invalid`, never thrown. */
  validate(token: string, options?: { extend?: boolean }): Promise<ValidateResult>
  get(id: string): Promise<SessionRecord | null>
  /** Live sessions of a user, newest first; expired index members are pruned on the way. */
  listByUser(userId: string): Promise<SessionRecord[]>
  /** Revokes one session; with `userId`, only if it belongs to that user. Returns whether one was revoked. */
  revoke(id: string, userId?: string): Promise<boolean>
  /** Revokes every session of a user (but `except`), returning how many. */
  revokeAllForUser(userId: string, options?: { except?: string }): Promise<number>
  /** Rewrites the user snapshot in every live session of the user (roles, name, email changes). */
  updateUser(user: SessionUser): Promise<number>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface StoreOptions {
  idleTtlMs: number
  absoluteTtlMs: number
  extendThrottleMs: number
}
