import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import SwaggerParser from '@apidevtools/swagger-parser'
import t from 'tap'
import * as errors from '../../src/errors.js'
import { DOCUMENT_ENV, generateDocument } from '../../scripts/openapi.js'
import { build } from '../helper.js'

const DOC_PATH = new URL('../../openapi/openapi.json', import.meta.url)
const committed = readFileSync(DOC_PATH, 'utf8')
const doc = JSON.parse(committed) as {
  paths: Record<string, Record<string, {
    operationId?: string,
    summary?: string,
    tags?: string[],
    security?: unknown[],
    responses: Record<string, { description: string, content?: Record<string, { schema: { allOf?: Array<{ properties?: { code?: { enum?: string[] } } }> } }> }>
  }>>
}

t.test('openapi/openapi.json is what the routes generate (run `npm run openapi` after changing a route)', async (t) => {
  t.equal(await generateDocument(), committed)
})

t.test('the document passes swagger-parser validation', async (t) => {
  await t.resolves(SwaggerParser.validate(structuredClone(JSON.parse(committed))))
})

t.test('the document passes redocly lint with no error', async (t) => {
  const { stdout } = await promisify(execFile)(
    'node_modules/.bin/redocly', ['lint', 'openapi/openapi.json', '--format=json'],
    { cwd: new URL('../..', import.meta.url), env: { ...process.env, REDOCLY_TELEMETRY: 'off' } }
  ).catch((err: { stdout: string }) => err)
  const report = JSON.parse(stdout) as { totals: { errors: number, warnings: number }, problems: Array<{ severity: string, message: string }> }
  t.equal(report.totals.errors, 0, report.problems.filter((p) => p.severity === 'error').map((p) => p.message).join('; '))
  t.comment(`redocly: ${report.totals.errors} errors, ${report.totals.warnings} warnings`)
})

t.test('every operation is complete: unique operationId, summary, tags, security, a success and described responses', async (t) => {
  const ids = new Set<string>()
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const name = `${method.toUpperCase()} ${path}`
      t.ok(op.operationId, `${name} has an operationId`)
      t.notOk(ids.has(op.operationId ?? ''), `${name}: operationId ${op.operationId} is unique`)
      ids.add(op.operationId ?? '')
      t.ok(op.summary, `${name} has a summary`)
      t.ok(op.tags?.length, `${name} has tags`)
      t.ok(Array.isArray(op.security), `${name} declares its security`)
      t.ok(Object.keys(op.responses).some((s) => /^[23]/.test(s)), `${name} documents a success`)
      for (const [status, response] of Object.entries(op.responses)) {
        t.not(response.description, 'Default Response', `${name} ${status} is described`)
        if (status === '204') t.notOk(response.content, `${name} 204 has no body`)
        for (const media of Object.values(response.content ?? {})) {
          for (const code of media.schema.allOf?.[1]?.properties?.code?.enum ?? []) {
            t.ok((errors.ERROR_CODES as readonly string[]).includes(code), `${name} ${status}: ${code} is a known code`)
          }
        }
      }
    }
  }
  t.ok(ids.size >= 7, `${ids.size} operations`)
})

t.test('every error made in src/errors.ts has its code in ERROR_CODES (so the document lists it)', async (t) => {
  for (const [name, value] of Object.entries(errors)) {
    if (typeof value !== 'function') continue
    const err = new (value as new (...args: unknown[]) => { code: string })('x', 1)
    t.ok((errors.ERROR_CODES as readonly string[]).includes(err.code), `${name} → ${err.code}`)
  }
})

t.test('the service serves its document at /openapi.json and Swagger UI at /docs', async (t) => {
  const app = await build(t, DOCUMENT_ENV)
  const res = await app.inject({ url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json().paths).sort(), Object.keys(doc.paths).sort())
  const ui = await app.inject({ url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
})
