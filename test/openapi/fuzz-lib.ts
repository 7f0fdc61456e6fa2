/**
 * A schemathesis-like fuzzer built from the OpenAPI document: for every operation it generates
 * valid, near-valid and random requests with fast-check (bodies and parameters from the documented
 * schemas through json-schema-faker), sends them with app.inject, and checks each response
 * against the document. Used by fuzz.test.ts (bounded, in CI) and `npm run fuzz:long`.
 */
import { randomBytes } from 'node:crypto'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import { generateSync } from 'json-schema-faker'
import type { App } from '../../src/app.js'
import type { SessionUser } from '../../src/sessions/store.js'

type Json = Record<string, unknown>
type Schema = Json

interface Parameter { name: string, in: 'path' | 'query' | 'header' | 'cookie', required?: boolean, schema?: Schema }
interface ResponseObject { content?: Record<string, { schema?: Schema }> }
interface OperationObject {
  operationId: string
  parameters?: Parameter[]
  requestBody?: { required?: boolean, content?: Record<string, { schema?: Schema }> }
  responses: Record<string, ResponseObject>
  security?: Array<Record<string, string[]>>
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>
  components?: { schemas?: Record<string, Schema> }
}

export interface Operation {
  id: string
  method: string
  path: string
  pointer: string
  object: OperationObject
  params: Parameter[]
  body?: Schema
  security: string[]
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head']

/** Replaces local component refs by their schema (our schemas are not recursive). */
export function deref (schema: unknown, doc: OpenApiDocument, depth = 0): unknown {
  if (depth > 20) throw new Error('schema nests too deeply (recursive $ref?)')
  if (Array.isArray(schema)) return schema.map((s) => deref(s, doc, depth + 1))
  if (schema === null || typeof schema !== 'object') return schema
  const obj = schema as Json
  if (typeof obj.$ref === 'string' && obj.$ref.startsWith('#/components/schemas/')) {
    const target = doc.components?.schemas?.[obj.$ref.slice('#/components/schemas/'.length)]
    const { $ref: _ref, ...rest } = obj
    return deref({ ...target, ...rest }, doc, depth + 1)
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, deref(v, doc, depth + 1)]))
}

const pointerPart = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1')

export function operationsOf (doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const object = item[method]
      if (object === undefined) continue
      const body = object.requestBody?.content?.['application/json']?.schema
      ops.push({
        id: object.operationId,
        method: method.toUpperCase(),
        path,
        pointer: `#/paths/${pointerPart(path)}/${method}`,
        object,
        params: (object.parameters ?? []).map((p) => ({ ...p, schema: deref(p.schema, doc) as Schema })),
        ...(body !== undefined ? { body: deref(body, doc) as Schema } : {}),
        security: (object.security ?? []).flatMap((s) => Object.keys(s))
      })
    }
  }
  return ops
}

// ---------------------------------------------------------------------------------------------
// Request descriptions. Arbitraries are synchronous; what needs the service (a live session, a
// fresh email) is a placeholder that materialize() fills in just before the request is sent.

class Placeholder {
  constructor (readonly name: 'token' | 'ownSessionId' | 'otherSessionId' | 'userId' | 'userEmail' | 'password' | 'newEmail') {}
  toJSON () { return `<${this.name}>` }
}
const ph = (name: Placeholder['name']) => new Placeholder(name)

type Auth =
  | { kind: 'none' }
  | { kind: 'bearer' | 'cookie', token: Placeholder | string, sameSite?: boolean }
  | { kind: 'admin', token: 'valid' | string }
  | { kind: 'rawAuthorization' | 'rawCookie', value: string }

type Body =
  | { kind: 'none' }
  | { kind: 'json', value: unknown }
  | { kind: 'raw', text: string }

export interface RequestSpec {
  auth: Auth
  params: Record<string, unknown>
  /** Encoded path segments are replaced as they are (to send malformed escapes). */
  rawParams: Record<string, string>
  query: Array<[string, unknown]>
  headers: Record<string, string>
  body: Body
  /** undefined: application/json when there is a JSON body; null: no Content-Type at all. */
  contentType?: string | null
}

// ---- hostile values ---------------------------------------------------------------------------

/**
 * Deeply nested JSON (`[{"a":[{"a":...1}]}]`), kept as a marker until the request is written:
 * recursive code (ours, fast-check's printer) must not walk thousands of levels.
 */
class Deep {
  constructor (readonly depth: number) {}
  toJSON () { return `__DEEP_${this.depth}__` }
}
function deepText (depth: number): string {
  let open = ''
  let close = ''
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? '[' : '{"a":'
    close = (i % 2 === 0 ? ']' : '}') + close
  }
  return `${open}1${close}`
}
const expandDeep = (json: string) => json.replace(/"__DEEP_(\d+)__"/g, (_m, d: string) => deepText(Number(d)))

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '', ' ', '\u0000', 'a\u0000b', '0', '-1', '1e309', 'NaN', 'null', 'true', '[]', '{}', '__proto__',
    'constructor', '../../etc/passwd', '<script>alert(1)</script>', "' OR '1'='1", '%00', '%', '%zz', '\uFEFF',
    '\u202Eevil', '𝕳𝖊𝖑𝖑𝖔', '👩‍👩‍👧‍👦', '\ud800', '\udfff', 'a.b', '.', '..', 'x@y', ' @ ', '\t\n\r',
    'abcdefghijkl.abcdefghijklmnop', 'abcdefghijkl0123456789abcdef.' + 'A'.repeat(43), '{tag}x', '*', '?', '#', '/'
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer({ min: 100, max: 40_000 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 100, max: 12_000 }).map((n) => 'é'.repeat(n)),
  fc.integer().map(String)
)

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, [], {}, [''], { '': '' }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4000 }).map((d) => new Deep(d)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }
)

const hostileKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', '', ' ', 'toString', 'hasOwnProperty', '$ref', '\u0000'), fc.string({ maxLength: 20 }))

const CONTEXT_HEADERS = [
  'accept', 'origin', 'sec-fetch-site', 'x-forwarded-method', 'x-forwarded-proto', 'x-forwarded-host',
  'x-forwarded-uri', 'x-original-method', 'x-original-url', 'x-forwarded-for', 'user-agent'
]
const headerValue = fc.constantFrom(
  'text/html,application/xhtml+xml', 'application/json', '*/*', 'GET', 'POST', 'HEAD', 'https', 'http',
  'app.example.test', '/private?x=1', 'https://app.example.test/private', 'https://evil.example', 'null',
  'same-origin', 'cross-site', 'none', '127.0.0.1', '::1'
)

const CONTENT_TYPES = [
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml',
  'application/json; charset=utf-16', 'application/json; charset=latin1', 'APPLICATION/JSON', 'application/vnd.api+json',
  'application/json;', 'application/jsonx', 'json', '', '*/*', 'application/octet-stream'
]

const RAW_BODIES = [
  '', ' ', '{', '}', '{"a":', '[', 'null', 'true', '0', '"x"', '[]', '{}', '\uFEFF{}', '{"__proto__":{"x":1}}',
  '{"constructor":{"prototype":{"x":1}}}', 'NaN', '{\'a\':1}', '{"a":1}{"b":2}', '\u0000', 'a=1&b=2', '--x\r\n'
]

// ---- generation ---------------------------------------------------------------------------------

/** Which placeholder a property or parameter name should get in a "valid" request. */
function hint (op: Operation, name: string): Placeholder | undefined {
  const lower = name.toLowerCase()
  if (lower === 'token') return ph('token')
  if (lower === 'email') return op.id === 'login' ? ph('userEmail') : ph('newEmail')
  // The pool user's password stays PASSWORD, so later logins and password changes still work.
  if (lower === 'password' || lower === 'currentpassword' || lower === 'newpassword') return op.id === 'register' ? undefined : ph('password')
  if (lower === 'userid') return ph('userId')
  return undefined
}

function idHints (op: Operation): fc.Arbitrary<Placeholder> {
  if (/users\/\{[^}]+\}/.test(op.path) && !/sessions\/\{/.test(op.path)) return fc.constant(ph('userId'))
  return fc.constantFrom(ph('ownSessionId'), ph('ownSessionId'), ph('otherSessionId'))
}

function sample (schema: Schema, seed: number): unknown {
  try {
    return generateSync(schema as never, { seed, maxDepth: 4, optionalsProbability: 0.7 } as never)
  } catch {
    // json-schema-faker gives up on some combinations (additionalProperties: false with
    // minProperties): fill every property one by one instead.
    const properties = schema.properties as Record<string, Schema> | undefined
    if (properties === undefined) return {}
    return Object.fromEntries(Object.entries(properties).map(([k, s], i) => [k, sample(s, seed + i + 1)]))
  }
}

function validAuth (op: Operation): fc.Arbitrary<Auth> {
  if (op.security.includes('adminToken')) return fc.constant({ kind: 'admin', token: 'valid' })
  if (op.security.includes('bearerAuth') || op.security.includes('sessionCookie')) {
    return fc.oneof(
      fc.constant<Auth>({ kind: 'bearer', token: ph('token') }),
      fc.constant<Auth>({ kind: 'cookie', token: ph('token'), sameSite: true })
    )
  }
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant<Auth>({ kind: 'none' }) },
    { weight: 1, arbitrary: fc.constant<Auth>({ kind: 'bearer', token: ph('token') }) }
  )
}

export function validRequest (op: Operation): fc.Arbitrary<RequestSpec> {
  return fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
    useHints: fc.boolean(),
    auth: validAuth(op),
    id: idHints(op)
  }).map(({ seed, useHints, auth, id }) => {
    const spec: RequestSpec = { auth, params: {}, rawParams: {}, query: [], headers: {}, body: { kind: 'none' } }
    let n = seed
    for (const p of op.params) {
      const value = p.schema ? sample(p.schema, n++) : 'x'
      if (p.in === 'path') spec.params[p.name] = useHints ? (hint(op, p.name) ?? id) : value
      else if (p.in === 'query' && (p.required || useHints || n % 2 === 0)) spec.query.push([p.name, value])
      else if (p.in === 'header' && (p.required || n % 2 === 0)) spec.headers[p.name.toLowerCase()] = sanitizeHeader(String(value))
    }
    if (op.body !== undefined) {
      const value = sample(op.body, seed)
      if (useHints && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const key of Object.keys(value)) {
          const h = hint(op, key)
          if (h) (value as Json)[key] = h
        }
      }
      spec.body = { kind: 'json', value }
    }
    return spec
  })
}

/** Paths to every value inside a JSON body, for mutating one of them. */
function valuePaths (value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  out.push(prefix)
  if (value !== null && typeof value === 'object' && !(value instanceof Placeholder) && !(value instanceof Deep) && prefix.length < 4) {
    for (const key of Object.keys(value)) valuePaths((value as Json)[key], [...prefix, key], out)
  }
  return out
}

function setAt (root: unknown, path: string[], value: unknown, remove = false): unknown {
  if (path.length === 0) return value
  const copy = structuredCloneSafe(root) as Json
  let cur = copy
  for (const key of path.slice(0, -1)) cur = cur[key] as Json
  const last = path[path.length - 1] as string
  if (remove) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1)
    else delete cur[last]
  } else {
    Object.defineProperty(cur, last, { value, enumerable: true, writable: true, configurable: true })
  }
  return copy
}

function structuredCloneSafe (v: unknown): unknown {
  if (v instanceof Placeholder || v instanceof Deep) return v
  if (Array.isArray(v)) {
    const out: unknown[] = []
    for (let i = 0; i < v.length; i++) out.push(structuredCloneSafe(v[i]))
    return out
  }
  if (v !== null && typeof v === 'object') {
    const out: Json = {}
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: structuredCloneSafe(x), enumerable: true, writable: true, configurable: true })
    return out
  }
  return v
}

type Mutation = (spec: RequestSpec, op: Operation) => RequestSpec

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // one value inside the body becomes hostile
  fc.tuple(fc.nat(), hostileValue).map(([i, v]): Mutation => (spec) => {
    if (spec.body.kind !== 'json') return { ...spec, body: { kind: 'json', value: v } }
    const paths = valuePaths(spec.body.value)
    return { ...spec, body: { kind: 'json', value: setAt(spec.body.value, paths[i % paths.length] as string[], v) } }
  }),
  // a value is removed (a required property goes missing)
  fc.nat().map((i): Mutation => (spec) => {
    if (spec.body.kind !== 'json') return spec
    const paths = valuePaths(spec.body.value).filter((p) => p.length > 0)
    if (paths.length === 0) return spec
    return { ...spec, body: { kind: 'json', value: setAt(spec.body.value, paths[i % paths.length] as string[], undefined, true) } }
  }),
  // an unexpected property
  fc.tuple(hostileKey, hostileValue).map(([k, v]): Mutation => (spec) => {
    const base = spec.body.kind === 'json' && spec.body.value !== null && typeof spec.body.value === 'object' ? spec.body.value : {}
    return { ...spec, body: { kind: 'json', value: setAt(base, [k], v) } }
  }),
  // the whole body is something else
  hostileValue.map((v): Mutation => (spec) => ({ ...spec, body: { kind: 'json', value: v } })),
  fc.constantFrom(...RAW_BODIES).map((text): Mutation => (spec) => ({ ...spec, body: { kind: 'raw', text } })),
  // the body is valid but labelled with another content type, or none
  fc.constantFrom<string | null>(...CONTENT_TYPES, null).map((ct): Mutation => (spec) => ({
    ...spec, contentType: ct, body: spec.body.kind === 'none' ? { kind: 'raw', text: '{}' } : spec.body
  })),
  // a path parameter is hostile, or a malformed escape
  fc.tuple(hostileString, fc.boolean()).map(([v, raw]): Mutation => (spec, op) => {
    const name = op.params.find((p) => p.in === 'path')?.name
    if (name === undefined) return spec
    return raw ? { ...spec, rawParams: { [name]: v.replace(/[/?#\s]/g, '') || '%' } } : { ...spec, params: { ...spec.params, [name]: v } }
  }),
  // a query parameter is hostile, repeated or unknown
  fc.tuple(fc.option(hostileKey), hostileValue, fc.boolean()).map(([k, v, repeat]): Mutation => (spec, op) => {
    const known = op.params.find((p) => p.in === 'query')?.name
    const key = k ?? known ?? 'x'
    const query: Array<[string, unknown]> = repeat ? [...spec.query, [key, v], [key, v]] : [...spec.query.filter(([q]) => q !== key), [key, v]]
    return { ...spec, query }
  }),
  // hostile credentials
  fc.tuple(fc.constantFrom('bearer', 'cookie', 'admin', 'rawAuthorization', 'rawCookie'), hostileString).map(([kind, v]): Mutation => (spec) => {
    const value = sanitizeHeader(v)
    if (kind === 'rawAuthorization' || kind === 'rawCookie') return { ...spec, auth: { kind, value } }
    if (kind === 'admin') return { ...spec, auth: { kind, token: value } }
    return { ...spec, auth: { kind: kind as 'bearer' | 'cookie', token: value, sameSite: true } }
  }),
  // a session that no longer exists
  fc.constant<Mutation>((spec) => ({ ...spec, auth: { kind: 'bearer', token: 'revoked' } })),
  // hostile header parameters, or the headers proxies and browsers send (forward-auth, CSRF read them)
  fc.tuple(fc.nat(), fc.oneof(hostileString, headerValue)).map(([i, v]): Mutation => (spec, op) => {
    const names = [...op.params.filter((p) => p.in === 'header').map((p) => p.name), ...CONTEXT_HEADERS]
    const name = names[i % names.length] as string
    return { ...spec, headers: { ...spec.headers, [name.toLowerCase()]: sanitizeHeader(v) } }
  })
)

export function nearValidRequest (op: Operation): fc.Arbitrary<RequestSpec> {
  return fc.tuple(validRequest(op), fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([spec, mutations]) => mutations.reduce((s, m) => m(s, op), spec))
}

export function randomRequest (op: Operation): fc.Arbitrary<RequestSpec> {
  return fc.record({
    auth: fc.oneof(
      fc.constant<Auth>({ kind: 'none' }),
      fc.string().map((v): Auth => ({ kind: 'rawAuthorization', value: sanitizeHeader(v) })),
      fc.string().map((v): Auth => ({ kind: 'rawCookie', value: sanitizeHeader(v) })),
      fc.constant<Auth>({ kind: 'bearer', token: ph('token') })
    ),
    params: fc.record(Object.fromEntries(op.params.filter((p) => p.in === 'path').map((p) => [p.name, fc.string({ unit: 'binary', maxLength: 30 })]))),
    query: fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 })), { maxLength: 4 }),
    headers: fc.dictionary(fc.constantFrom(...CONTEXT_HEADERS), fc.oneof(fc.string({ maxLength: 30 }), headerValue).map(sanitizeHeader)),
    body: fc.oneof(
      fc.constant<Body>({ kind: 'none' }),
      fc.jsonValue().map((value): Body => ({ kind: 'json', value })),
      fc.string({ unit: 'binary' }).map((text): Body => ({ kind: 'raw', text }))
    ),
    contentType: fc.option(fc.constantFrom(...CONTENT_TYPES, 'application/json'), { nil: undefined })
  }).map((r): RequestSpec => ({ ...r, rawParams: {} }))
}

/** Header values as a real HTTP peer can send them: no control characters, latin1 only. */
function sanitizeHeader (v: string): string {
  return v.replace(/[^\x20-\x7e\x80-\xff\t]/g, '').trim()
}

// ---- running ------------------------------------------------------------------------------------

export interface FuzzUser { user: SessionUser, email: string, password: string }

export class FuzzContext {
  requests = 0
  injectErrors = 0
  statuses = new Map<string, Map<number, number>>()
  private readonly validators = new Map<string, ValidateFunction>()
  private readonly ajv: Ajv2020

  constructor (readonly app: App, readonly doc: OpenApiDocument, readonly users: FuzzUser[], readonly adminToken: string, readonly passwordHash: string) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void
    addFormats(this.ajv)
    this.ajv.addSchema(doc as object, 'openapi.json')
  }

  /** A user of its own for each request that names a user by id: admin calls may delete or disable it. */
  private async throwawayUserId (): Promise<string> {
    const user = await this.app.users.create({ email: `fuzz-${randomBytes(6).toString('hex')}@example.test`, name: 'throwaway', passwordHash: this.passwordHash })
    if (!user) throw new Error('could not create a throwaway user')
    await this.session({ user: { id: user.id, email: user.email, name: user.name, roles: user.roles }, email: user.email, password: '' })
    return user.id
  }

  private async session (user: FuzzUser) {
    return await this.app.sessions.create(user.user, { ip: '127.0.0.1', userAgent: 'fuzz' })
  }

  /** Turns a description into a request, creating the sessions it refers to. */
  async materialize (op: Operation, spec: RequestSpec): Promise<InjectOptions> {
    const self = this.users[0] as FuzzUser
    const other = this.users[1] as FuzzUser
    let own: { token: string, session: { id: string } } | undefined
    const ownSession = async () => (own ??= await this.session(self))
    const fill = async (v: unknown): Promise<unknown> => {
      if (v instanceof Placeholder) {
        switch (v.name) {
          case 'token': return (await ownSession()).token
          case 'ownSessionId': return (await ownSession()).session.id
          case 'otherSessionId': return (await this.session(other)).session.id
          case 'userId': return await this.throwawayUserId()
          case 'userEmail': return self.email
          case 'password': return self.password
          case 'newEmail': return `fuzz-${randomBytes(6).toString('hex')}@example.test`
        }
      }
      if (v instanceof Deep) return v
      if (Array.isArray(v)) {
        // Index loops, not v.map: a hostile `constructor` key on an array breaks Array.prototype.map.
        const out: unknown[] = []
        for (let i = 0; i < v.length; i++) out.push(await fill(v[i]))
        return out
      }
      if (v !== null && typeof v === 'object') {
        const out: Json = {}
        for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: await fill(x), enumerable: true, writable: true, configurable: true })
        return out
      }
      return v
    }

    const headers: Record<string, string> = { ...spec.headers }
    const auth = spec.auth
    if (auth.kind === 'bearer' || auth.kind === 'cookie') {
      let token = auth.token instanceof Placeholder ? String(await fill(auth.token)) : auth.token
      if (token === 'revoked') {
        const s = await this.session(self)
        await this.app.sessions.revoke(s.session.id)
        token = s.token
      }
      if (auth.kind === 'bearer') headers.authorization = `Bearer ${token}`
      else {
        headers.cookie = `${cookieName(this.doc)}=${token}`
        if (auth.sameSite) headers['sec-fetch-site'] = 'same-origin'
      }
    } else if (auth.kind === 'admin') {
      headers.authorization = `Bearer ${auth.token === 'valid' ? this.adminToken : auth.token}`
    } else if (auth.kind === 'rawAuthorization') {
      headers.authorization = auth.value
    } else if (auth.kind === 'rawCookie') {
      headers.cookie = auth.value
    }

    let path = op.path
    for (const p of op.params.filter((x) => x.in === 'path')) {
      const raw = spec.rawParams[p.name]
      // `.` and `..` (even as %2E) are dot segments: URL parsers (light-my-request's, fetch's) resolve
      // them, so the request would go to another route. Three dots are an ordinary segment.
      const value = (raw ?? encodeLoose(String(await fill(spec.params[p.name] ?? 'x')))).replace(/^(\.|%2e){1,2}$/i, '...')
      path = path.replace(`{${p.name}}`, value)
    }
    const query: string[] = []
    for (const [k, v] of spec.query) {
      const filled = await fill(v)
      for (const item of Array.isArray(filled) ? filled : [filled]) {
        query.push(`${encodeLoose(k)}=${encodeLoose(typeof item === 'string' ? item : expandDeep(JSON.stringify(item) ?? ''))}`)
      }
    }
    const url = query.length > 0 ? `${path}?${query.join('&')}` : path

    let payload: string | undefined
    if (spec.body.kind === 'json') payload = expandDeep(JSON.stringify(await fill(spec.body.value)) ?? 'null')
    else if (spec.body.kind === 'raw') payload = spec.body.text
    if (payload !== undefined) {
      if (spec.contentType === undefined) headers['content-type'] = 'application/json'
      else if (spec.contentType !== null) headers['content-type'] = spec.contentType
    }
    return { method: op.method as InjectOptions['method'], url, headers, ...(payload !== undefined ? { payload } : {}) }
  }

  private validator (pointer: string): ValidateFunction {
    let v = this.validators.get(pointer)
    if (v === undefined) {
      v = this.ajv.compile({ $ref: `openapi.json${pointer}` })
      this.validators.set(pointer, v)
    }
    return v
  }

  /** Sends one request and returns what is wrong with the response, or null. */
  async check (op: Operation, spec: RequestSpec): Promise<string | null> {
    const request = await this.materialize(op, spec)
    let res
    try {
      this.requests++
      res = await this.app.inject(request)
    } catch {
      // light-my-request refused to build this request (e.g. an invalid header): not a server answer.
      this.injectErrors++
      return null
    }
    const byStatus = this.statuses.get(op.id) ?? new Map<number, number>()
    byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1)
    this.statuses.set(op.id, byStatus)

    const where = `${request.method} ${String(request.url).slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`
    if (res.statusCode >= 500 && res.statusCode !== 503) return `5xx: ${where}`
    const status = String(res.statusCode)
    const documented = [status, `${status[0]}XX`, 'default'].find((s) => op.object.responses[s] !== undefined)
    if (documented === undefined) return `undocumented status: ${where}`
    const response = op.object.responses[documented] as ResponseObject
    if (response.content === undefined) {
      if (res.body !== '') return `body where the document has none: ${where}`
      return null
    }
    const contentType = String(res.headers['content-type'] ?? '')
    const media = Object.keys(response.content).find((m) => contentType.startsWith(m))
    if (media === undefined) return `content-type ${contentType} is not one of ${Object.keys(response.content).join(', ')}: ${where}`
    let body: unknown = res.body
    if (media.includes('json')) {
      try {
        body = res.json()
      } catch {
        return `body is not JSON: ${where}`
      }
    }
    const validate = this.validator(`#${op.pointer.slice(1)}/responses/${documented}/content/${pointerPart(media)}/schema`)
    if (!validate(body)) return `body does not match the documented schema (${this.ajv.errorsText(validate.errors)}): ${where}`
    return null
  }
}

/**
 * encodeURIComponent, except that lone surrogates (which it refuses) are written as the bytes a
 * careless client would send (WTF-8): the service must cope with invalid UTF-8 in a URL.
 */
export function encodeLoose (s: string): string {
  let out = ''
  for (const ch of s) {
    const u = ch.charCodeAt(0)
    if (ch.length === 1 && u >= 0xd800 && u <= 0xdfff) {
      out += [0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('')
    } else {
      out += encodeURIComponent(ch)
    }
  }
  return out
}

function cookieName (doc: OpenApiDocument): string {
  const scheme = (doc as { components?: { securitySchemes?: Record<string, { name?: string }> } }).components?.securitySchemes?.sessionCookie
  return scheme?.name ?? '__Host-session'
}
