import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { DOCUMENT_ENV } from '../../scripts/openapi.js'
import { build, PASSWORD, register } from '../helper.js'
import { FuzzContext, nearValidRequest, operationsOf, randomRequest, validRequest, type OpenApiDocument, type RequestSpec } from './fuzz-lib.js'

/**
 * Property-based fuzzing of every operation in the OpenAPI document (see fuzz-lib.ts). For each
 * operation, valid, near-valid and random requests; for each response: no 5xx but 503, a status the
 * document lists for that operation, and a body that matches the documented schema.
 * Bounded and seeded for CI: FUZZ_RUNS (per operation and kind, default 50) and FUZZ_SEED
 * reproduce or extend a run; `npm run fuzz:long` runs many more.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 50)
const SEED = Number(process.env.FUZZ_SEED ?? 20261124)
/** fast-check's printer trips over objects with a hostile `constructor` key: fall back to JSON. */
function show (value: unknown): string {
  try {
    return fc.stringify(value).slice(0, 2000)
  } catch {
    try {
      return String(JSON.stringify(value)).slice(0, 2000)
    } catch {
      return '(unprintable)'
    }
  }
}

const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef0123456789'

t.test('every operation answers as documented, whatever it is sent', async (t) => {
  const app = await build(t, {
    ...DOCUMENT_ENV,
    ADMIN_TOKEN,
    // Cheap hashing: the fuzzer registers and logs in many times; the parameters are not under test.
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1'
  })
  const doc = app.swagger() as unknown as OpenApiDocument
  const users = []
  for (const name of ['self', 'other']) {
    const u = await register(app, { name, password: PASSWORD })
    users.push({ user: u.body.user as never, email: u.email, password: PASSWORD })
  }
  const ctx = new FuzzContext(app, doc, users, ADMIN_TOKEN, await app.passwords.hash(PASSWORD))
  const ops = operationsOf(doc)
  const committed = operationsOf(JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as OpenApiDocument)
  t.same(ops.map((o) => o.id).sort(), committed.map((o) => o.id).sort(), `every operation of openapi/openapi.json is fuzzed (${ops.length})`)

  const kinds = { valid: validRequest, 'near-valid': nearValidRequest, random: randomRequest }
  let i = 0
  const started = Date.now()
  for (const op of ops) {
    for (const [kind, arbitrary] of Object.entries(kinds)) {
      const seed = SEED + i++
      const failure: { message?: string } = {}
      const result = await fc.check(fc.asyncProperty(arbitrary(op), async (spec: RequestSpec) => {
        const problem = await ctx.check(op, spec).catch((err: Error) => `the fuzzer failed: ${err.stack ?? err.message}`)
        if (problem !== null) failure.message = problem
        return problem === null
      }), { seed, numRuns: RUNS, endOnFailure: process.env.FUZZ_SHRINK === undefined })
      t.notOk(result.failed, `${op.id} (${op.method} ${op.path}), ${kind} requests`, result.failed
        ? { diagnostic: true, problem: failure.message, seed, reproduce: `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`, counterexample: show(result.counterexample) }
        : {})
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  t.comment(`fuzz: ${ctx.requests} requests (${ops.length} operations × 3 kinds × ${RUNS} runs, plus shrinking) in ${seconds} s; ${ctx.injectErrors} not sendable`)
  for (const [id, statuses] of ctx.statuses) {
    t.comment(`  ${id}: ${[...statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`)
  }
})
