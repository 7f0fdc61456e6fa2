// The same user data for every variant, so only the session machinery differs.
export const user = {
  id: '0b7e4f5a-3c1d-4e8b-9a2f-6d5c4b3a2f10',
  email: 'bench.user@example.com',
  name: 'Bench User',
  roles: ['user']
}

/** What the "limit" route keeps per session: ~200 bytes of JSON. */
export function limitSessionValue (): string {
  const now = Date.now()
  return JSON.stringify({
    user,
    createdAt: now,
    expiresAt: now + IDLE_TTL_MS,
    ip: '127.0.0.1'
  })
}

export const IDLE_TTL_MS = 7 * 24 * 3600 * 1000
export const LIMIT_PREFIX = 'limit:'
/** Long enough for @fastify/session (>= 32 chars); a benchmark secret, not a real one. */
export const COOKIE_SECRET = 'bench-only-cookie-secret-0123456789abcdef'
