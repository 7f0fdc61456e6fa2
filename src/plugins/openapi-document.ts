import { STATUS_CODES } from 'node:http'
import * as errors from '../errors.js'
import { ERROR_CODES } from '../errors.js'

/**
 * Finishes the document @fastify/swagger generates from the route schemas, so that it tells a
 * client everything the service can answer (the fuzz test holds it to that):
 * - the errors Fastify itself raises before a handler runs (bad JSON, wrong content type, body too
 *   large, schema validation) are added to every operation they can reach;
 * - each error response lists the codes it can carry as an `enum` on `code`: the codes named in the
 *   route's `errorResponse('CODE_A, CODE_B: ...')` description plus the ones added here;
 * - 503 (and 429) responses document `Retry-After`, responses carrying a token `Set-Cookie`;
 * - responses without a description get the HTTP reason phrase instead of "Default Response".
 * Only the document changes: serialization still uses the route schemas as declared.
 */

type Json = Record<string, unknown>
type Operation = Json & { responses?: Record<string, Json>, requestBody?: Json, parameters?: unknown[] }

const ERROR_REF = '#/components/schemas/Error'
const KNOWN = new Set<string>(ERROR_CODES)
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const
// Fastify parses a body (and can reject it) on these methods, whether or not the route declares one.
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete', 'options'])

/** The error codes named in a description such as 'VALIDATION_FAILED, PASSWORD_TOO_COMMON: ...'. */
export function codesIn (description: string): string[] {
  return (description.match(/[A-Z][A-Z0-9_]+/g) ?? []).filter((word) => KNOWN.has(word))
}

/** The errors Fastify raises for an operation before its handler runs, by status. */
function frameworkErrors (method: string, op: Operation): Record<string, { codes: string[], description: string }> {
  const errors: Record<string, { codes: string[], description: string }> = {}
  if (BODY_METHODS.has(method)) {
    errors['400'] = { codes: ['VALIDATION_FAILED', 'INVALID_JSON'], description: 'VALIDATION_FAILED, INVALID_JSON: the request does not match the schema, or its body is not JSON' }
    errors['413'] = { codes: ['BODY_TOO_LARGE'], description: 'BODY_TOO_LARGE: the body exceeds BODY_LIMIT' }
    errors['415'] = { codes: ['UNSUPPORTED_MEDIA_TYPE'], description: 'UNSUPPORTED_MEDIA_TYPE: a body that is not application/json' }
  } else if ((op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined) {
    errors['400'] = { codes: ['VALIDATION_FAILED'], description: 'VALIDATION_FAILED: the request does not match the schema' }
  }
  return errors
}

function isErrorResponse (response: Json): boolean {
  const schema = (response.content as Record<string, { schema?: Json }> | undefined)?.['application/json']?.schema
  return schema?.$ref === ERROR_REF
}

/** A sample message per code, from the errors themselves (those with a `%s` get a typical one). */
const SAMPLE_MESSAGES: Record<string, string> = (() => {
  const samples: Record<string, string> = {
    VALIDATION_FAILED: 'body must be object',
    NOT_FOUND: 'route GET /v1/nowhere not found',
    NOT_READY: 'not ready: redis down'
  }
  for (const value of Object.values(errors)) {
    if (typeof value !== 'function') continue
    const err = new (value as new () => { code: string, message: string })()
    samples[err.code] ??= err.message.replace('%d', '30')
  }
  return samples
})()

function errorContent (status: string, codes: string[]): Json {
  const code = codes[0] as string
  return {
    'application/json': {
      // Without it, Swagger UI shows the first code of the whole enum as every response's example.
      example: { statusCode: Number(status), code, error: STATUS_CODES[Number(status)] ?? 'Error', message: SAMPLE_MESSAGES[code] ?? code },
      schema: {
        allOf: [
          { $ref: ERROR_REF },
          { type: 'object', required: ['code'], properties: { code: { type: 'string', enum: codes } } }
        ]
      }
    }
  }
}

const RETRY_AFTER = {
  description: 'Seconds to wait before retrying.',
  schema: { type: 'integer', minimum: 0 }
}

const SET_COOKIE = {
  description: 'The session cookie (COOKIE_NAME, default `__Host-session`): HttpOnly, Secure, SameSite=Lax, Path=/, expiring with the absolute lifetime.',
  schema: { type: 'string' }
}

/** Whether a response's JSON body is the given component. */
function bodyIs (response: Json, component: string): boolean {
  const schema = (response.content as Record<string, { schema?: Json }> | undefined)?.['application/json']?.schema
  return schema?.$ref === `#/components/schemas/${component}`
}

function finishOperation (method: string, op: Operation): void {
  const responses = op.responses ?? (op.responses = {})
  for (const [status, { codes, description }] of Object.entries(frameworkErrors(method, op))) {
    const existing = responses[status]
    if (existing === undefined) {
      responses[status] = { description, content: { 'application/json': { schema: { $ref: ERROR_REF } } } }
    } else if (isErrorResponse(existing)) {
      const missing = codes.filter((c) => !codesIn(String(existing.description)).includes(c))
      if (missing.length > 0) existing.description = `${String(existing.description)}; also ${missing.join(', ')}`
    }
  }
  for (const [status, response] of Object.entries(responses)) {
    if (response.description === 'Default Response') response.description = STATUS_CODES[Number(status)] ?? 'Response'
    if (isErrorResponse(response)) {
      const codes = [...new Set(codesIn(String(response.description)))]
      if (codes.length > 0) response.content = errorContent(status, codes)
    }
    // Every response that hands out a token (register, login, password change) also sets the cookie.
    if (bodyIs(response, 'SessionWithToken')) response.headers = { 'Set-Cookie': SET_COOKIE, ...(response.headers as Json | undefined) }
    if (status === '503' || status === '429') {
      response.headers = { 'Retry-After': RETRY_AFTER, ...(response.headers as Json | undefined) }
    }
  }
}

export function finishDocument<T> (document: T): T {
  const doc = document as Json & { paths?: Record<string, Record<string, Operation>>, components?: { schemas?: Record<string, Json> } }
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method]
      if (op !== undefined) finishOperation(method, op)
    }
  }
  const errorSchema = doc.components?.schemas?.Error as { properties?: { code?: Json } } | undefined
  if (errorSchema?.properties?.code) errorSchema.properties.code.enum = [...ERROR_CODES]
  return document
}
