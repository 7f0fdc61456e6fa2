import fc from 'fast-check'
import fjs from 'fast-json-stringify'
import t from 'tap'
import { SessionSchema, SessionViewSchema, UserSchema } from '../../src/schemas.js'
import type { SessionRecord } from '../../src/sessions/store.js'
import { iso, sessionViewJson, toSessionView } from '../../src/sessions/view.js'

t.test('iso() writes what Date#toISOString writes', async (t) => {
  const samples = [
    0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000,
    Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1),
    Date.UTC(9999, 11, 31, 23, 59, 59, 999)
  ]
  for (let i = 0; i < 5000; i++) samples.push(Math.floor(Math.random() * Date.UTC(9999, 11, 31)))
  const wrong = samples.filter((ms) => iso(ms) !== new Date(ms).toISOString())
  t.same(wrong.map((ms) => [ms, iso(ms)]), [], `${samples.length} times, edges included, read the same`)
})

t.test('sessionViewJson() writes what the SessionView schema serializer writes for toSessionView()', async (t) => {
  // The serializer Fastify would build for the route's 200 answer.
  const serialize = fjs(SessionViewSchema as unknown as Parameters<typeof fjs>[0], { schema: { User: UserSchema, Session: SessionSchema } as unknown as Record<string, Parameters<typeof fjs>[0]> })
  // Full unicode, quotes, backslashes, control characters and lone surrogates where a user or a client chose the text.
  const text = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u2028', '\ud800', 'é', '/', 'a') }))
  const ms = fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) })
  const record = fc.record({
    id: fc.string({ unit: fc.constantFrom(...'AZaz09-_'), minLength: 28, maxLength: 28 }),
    user: fc.record({ id: fc.uuid(), email: text, name: fc.option(text), roles: fc.array(text, { maxLength: 4 }) }),
    createdAt: ms,
    lastSeenAt: ms,
    expiresAt: ms,
    absoluteExpiresAt: ms,
    ip: fc.option(text),
    userAgent: fc.option(text)
  })
  fc.assert(fc.property(record, fc.boolean(), (r: SessionRecord, current) => {
    const json = sessionViewJson(r, current)
    if (json !== serialize(toSessionView(r, current))) throw new Error(`differs: ${json}`)
  }), { numRuns: 2000 })
  t.pass('2,000 random records serialize the same')
})
