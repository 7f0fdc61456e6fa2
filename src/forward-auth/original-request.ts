import proxyAddr from '@fastify/proxy-addr'
import type { FastifyRequest } from 'fastify'

/** The request the gateway is asking about (not the auth subrequest itself). */
export interface OriginalRequest {
  method: string
  /** Absolute http(s) URL, or null when no trusted proxy told us. */
  url: string | null
}

/**
 * Whether the direct peer is one of TRUST_PROXY's addresses, with the same proxy-addr rules
 * Fastify uses for request.ip. Only such a peer may tell us about the original request: anyone
 * else could name any URL or method.
 */
export function trustedPeer (trustProxy: string) {
  const trust = proxyAddr.compile(trustProxy.split(',').map((s) => s.trim()))
  return (request: FastifyRequest) => {
    const addr = request.socket.remoteAddress
    return addr !== undefined && trust(addr, 0)
  }
}

const METHOD = /^[A-Z]{1,20}$/
const PROTO = /^https?$/
// A host[:port] and nothing else: no userinfo, path or spaces that could move the URL elsewhere.
const HOST = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/

/** First value of a header, and for list-valued ones (proto, host, method) its first element. */
function first (value: string | string[] | undefined, list = false): string | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined) return undefined
  const s = (list ? v.split(',')[0] as string : v).trim()
  return s === '' ? undefined : s
}

// The authority must follow the scheme at once: `http:///path` (nginx's $http_host when a client sent
// no Host) would otherwise parse with "path" as its host.
const ABSOLUTE = /^https?:\/\/[^/?#\\\s]/i

function httpUrl (s: string): string | null {
  if (!ABSOLUTE.test(s) || !URL.canParse(s)) return null
  const u = new URL(s)
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null
}

/**
 * Reads the original method and URL from X-Forwarded-Method/-Proto/-Host/-Uri (Traefik, Caddy) or
 * X-Original-Method/-URL (nginx), only when `trusted`. Malformed values are ignored, not errors:
 * they come from the gateway's client, and a bad URL only means no `rd` on the login redirect.
 */
export function originalRequest (request: FastifyRequest, trusted: boolean): OriginalRequest {
  if (!trusted) return { method: request.method, url: null }
  const h = request.headers
  const forwardedMethod = (first(h['x-forwarded-method'], true) ?? first(h['x-original-method'], true))?.toUpperCase()
  const method = forwardedMethod !== undefined && METHOD.test(forwardedMethod) ? forwardedMethod : request.method

  const original = first(h['x-original-url'])
  if (original !== undefined) {
    const url = httpUrl(original)
    if (url !== null) return { method, url }
  }
  const host = first(h['x-forwarded-host'], true)
  const proto = first(h['x-forwarded-proto'], true)?.toLowerCase() ?? 'http'
  const uri = first(h['x-forwarded-uri']) ?? '/'
  if (host === undefined || !HOST.test(host) || !PROTO.test(proto) || !uri.startsWith('/')) return { method, url: null }
  return { method, url: httpUrl(`${proto}://${host}${uri}`) }
}

/** LOGIN_URL with `rd` set to the original URL (when known), keeping LOGIN_URL's own query. */
export function loginLocation (loginUrl: string, original: OriginalRequest): string {
  const u = new URL(loginUrl)
  if (original.url !== null) u.searchParams.set('rd', original.url)
  return u.href
}

/** A browser navigation asks for HTML; API callers (fetch, curl, SDKs) do not. */
export const wantsHtml = (request: FastifyRequest) => (request.headers.accept ?? '').toLowerCase().includes('text/html')
