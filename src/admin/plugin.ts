import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { AdminUnauthorized } from '../errors.js'
import adminRoutes from './routes.js'

const BEARER = /^Bearer +(\S+) *$/i
const digest = (value: string) => createHash('sha256').update(value).digest()

/** The configured admin tokens (ADMIN_TOKEN, comma-separated so an old and a new one overlap during rotation). */
export function adminTokens (config: Config): string[] {
  return (config.ADMIN_TOKEN ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
}

/**
 * Checks `Authorization: Bearer <token>` against every configured token. Both sides are hashed
 * first so the comparison runs over equal lengths in constant time, and every token is compared
 * (no early exit), so timing reveals neither a token's prefix nor which one matched.
 */
export function createAdminCheck (tokens: string[]) {
  const expected = tokens.map(digest)
  return function isAdmin (request: FastifyRequest): boolean {
    const m = BEARER.exec(request.headers.authorization ?? '')
    const given = digest(m?.[1] ?? '')
    let ok = false
    for (const e of expected) ok = timingSafeEqual(e, given) || ok
    return ok && m !== null
  }
}

/**
 * The admin API under its prefix. Not registered at all without ADMIN_TOKEN: every /admin path is
 * then an unknown route (404), so an unconfigured deployment exposes nothing to probe.
 */
export default async function admin (app: FastifyInstance, { config }: { config: Config }) {
  const tokens = adminTokens(config)
  if (tokens.length === 0) return
  const isAdmin = createAdminCheck(tokens)
  // Encapsulated: this hook guards only the routes registered below, and runs before body parsing.
  app.addHook('onRequest', async (request, reply) => {
    if (!isAdmin(request)) {
      reply.header('www-authenticate', 'Bearer realm="sessiond-admin"')
      throw new AdminUnauthorized()
    }
  })
  await app.register(adminRoutes)
}
