import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { CsrfRejected } from '../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * preHandler for state-changing routes that accept the session cookie (SPEC §5): a request
     * authenticated by the cookie must come from the service's own origin or from ALLOWED_ORIGINS.
     * Bearer requests are exempt: a browser never attaches an Authorization header on its own.
     */
    csrf(request: FastifyRequest): Promise<void>
  }
}

const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' }

/** `scheme://host[:port]` as browsers send it in `Origin` (lower-case, default port dropped); null if unparsable. */
export function normalizeOrigin (value: string): string | null {
  try {
    const url = new URL(value.trim())
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
    return url.origin
  } catch {
    return null
  }
}

/**
 * Whether `origin` names the host this request was sent to. `request.host` is the Host header, or
 * X-Forwarded-Host when the peer is a trusted proxy (TRUST_PROXY), as Fastify resolves it. Only the
 * host and port are compared, not the scheme: behind a TLS-terminating proxy that is not trusted the
 * request looks like plain http although the browser's Origin says https.
 */
function sameHost (origin: string, request: FastifyRequest): boolean {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false
  }
  const host = request.host.toLowerCase()
  if (url.host === host) return true
  // Host may carry the default port explicitly ("example.com:443") where Origin never does.
  return url.port === '' && host === `${url.hostname}:${DEFAULT_PORT[url.protocol] ?? ''}`
}

export function createCsrfCheck ({ allowedOrigins, sameSiteNone, viaCookie }: {
  allowedOrigins: string[]
  /** With SameSite=None the cookie rides on cross-site requests, so a missing Origin is not trusted. */
  sameSiteNone: boolean
  viaCookie: (request: FastifyRequest) => boolean
}) {
  const allowed = new Set(allowedOrigins.map((o) => normalizeOrigin(o)).filter((o): o is string => o !== null))

  return async function csrf (request: FastifyRequest): Promise<void> {
    if (!viaCookie(request)) return
    const site = request.headers['sec-fetch-site']
    // Fetch metadata is set by the browser itself and cannot be forged by a page.
    if (site === 'same-origin') return
    const origin = request.headers.origin
    if (origin !== undefined) {
      // "null" (sandboxed frames, some redirects) never matches anything here.
      const normalized = normalizeOrigin(origin)
      if (normalized !== null && (allowed.has(normalized) || sameHost(normalized, request))) return
      throw new CsrfRejected()
    }
    // No Origin but fetch metadata present: a browser that says the request is cross-site or
    // same-site (another subdomain) without naming an allowed origin.
    if (site !== undefined) throw new CsrfRejected()
    // Neither header: not a browser-initiated cross-site request. Browsers send Origin on every
    // cross-origin POST/PUT/PATCH/DELETE (fetch, XHR and form posts alike), and with SameSite=Lax or
    // Strict an old browser that omits it does not attach the cookie to a cross-site POST either.
    // So this is a non-browser client (curl, a server) holding the cookie: allow it — unless the
    // cookie is SameSite=None, where an old browser's cross-site form post would carry it.
    if (sameSiteNone) throw new CsrfRejected()
  }
}

async function csrfPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const check = createCsrfCheck({
    allowedOrigins: (config.ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    sameSiteNone: config.COOKIE_SAMESITE === 'none',
    viaCookie: (request) => app.auth.credential(request)?.via === 'cookie'
  })
  app.decorate('csrf', check)
}

export default fp(csrfPlugin, { name: 'csrf', dependencies: ['sessions'] })
