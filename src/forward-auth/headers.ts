import type { SessionUser } from '../sessions/store.js'

export type HeaderProfile = 'x-auth' | 'remote'

/**
 * Makes a user-controlled string safe as an HTTP header value. Printable ASCII other than `%`
 * passes unchanged; everything else (CR, LF and other control characters, `%`, non-ASCII) is
 * percent-encoded as UTF-8. So a name can neither split the response into extra headers (CR/LF)
 * nor make Node throw (characters above U+00FF), and `decodeURIComponent()` gives the exact value back.
 */
export function headerValue (value: string, extra?: RegExp): string {
  // Most values have nothing to encode: a test is cheaper than a replace that finds nothing.
  const encoded = ANY_UNSAFE.test(value) ? value.replace(UNSAFE, encodeChar) : value
  return extra ? encoded.replace(extra, encodeChar) : encoded
}

// Everything but printable ASCII (0x20-0x7e) and '%' (0x25); the `u` flag matches whole code points.
const UNSAFE = /[^\x20-\x24\x26-\x7e]/gu
// The same class without `g`: test() keeps no lastIndex between calls.
const ANY_UNSAFE = new RegExp(UNSAFE.source, 'u')
const COMMA = /,/g

function encodeChar (c: string): string {
  try {
    return encodeURIComponent(c)
  } catch {
    // A lone surrogate has no UTF-8 form: send U+FFFD, as a UTF-8 decoder would.
    return '%EF%BF%BD'
  }
}

/** Roles comma-joined; a comma inside a role name is encoded so the list splits back unambiguously. */
export const rolesValue = (roles: string[]) => roles.map((r) => headerValue(r, COMMA)).join(',')

/**
 * The identity headers of an allowed request. Every header of the profile is always sent, empty
 * when there is nothing to say (no name, no roles): a gateway then overwrites any copy the client
 * sent instead of keeping it, or (Caddy 2.6) inserting its own placeholder text for a missing one.
 */
export function identityHeaders (user: SessionUser, sessionId: string, profile: HeaderProfile): Record<string, string> {
  const h: Record<string, string> = {}
  const set = (name: string, value: string | null) => { h[name] = value ?? '' }
  if (profile === 'remote') {
    // Remote-User is the user id: stable for the life of the account, where an email can change.
    set('remote-user', headerValue(user.id))
    set('remote-email', headerValue(user.email))
    set('remote-name', user.name === null ? null : headerValue(user.name))
    set('remote-groups', rolesValue(user.roles))
  } else {
    set('x-auth-user-id', headerValue(user.id))
    set('x-auth-user-email', headerValue(user.email))
    set('x-auth-user-name', user.name === null ? null : headerValue(user.name))
    set('x-auth-user-roles', rolesValue(user.roles))
    set('x-auth-session-id', headerValue(sessionId))
  }
  return h
}

const header = (description: string) => ({ type: 'string', description })

/** For the OpenAPI document: every identity header a 200 may carry. */
export const IDENTITY_HEADERS_SCHEMA = {
  'X-Auth-User-Id': header('User id (uuid). FORWARD_AUTH_HEADERS=x-auth (default).'),
  'X-Auth-User-Email': header('Email; characters outside printable ASCII, and %, are percent-encoded as UTF-8. x-auth profile.'),
  'X-Auth-User-Name': header('Display name, percent-encoded like the email; empty when the user has none. x-auth profile.'),
  'X-Auth-User-Roles': header('Roles, comma-joined (a comma inside a role is %2C); empty when none. x-auth profile.'),
  'X-Auth-Session-Id': header('Public session id (not a credential). x-auth profile.'),
  'Remote-User': header('User id (uuid). FORWARD_AUTH_HEADERS=remote.'),
  'Remote-Email': header('Email, encoded as X-Auth-User-Email. remote profile.'),
  'Remote-Name': header('Display name, encoded as X-Auth-User-Name. remote profile.'),
  'Remote-Groups': header('Roles, comma-joined. remote profile.')
}
