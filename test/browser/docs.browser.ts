import { mkdirSync } from 'node:fs'
import { chromium } from 'playwright-core'
import t from 'tap'
import { DOCUMENT_ENV } from '../../scripts/openapi.js'
import { build } from '../helper.js'

/**
 * Swagger UI at /docs, as a person sees it: Debian's Chromium (browser downloads are impossible
 * here) driven by playwright-core loads the page from a listening sessiond and must render the
 * operations. Slow to set up, so it runs in its own step: `npm run test:browser` (CI installs
 * chromium when missing). Named *.browser.ts so `npm test` (test/**\/*.test.ts) leaves it out.
 * The screenshot lands in test-artifacts/docs.png.
 */
const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

t.test('Swagger UI at /docs renders every operation', async (t) => {
  const app = await build(t, DOCUMENT_ENV)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { operationId: string, summary: string }>> }
  const operations = Object.values(doc.paths).flatMap((item) => Object.values(item))

  const browser = await chromium.launch({ executablePath: EXECUTABLE, args: ARGS })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  const failed: string[] = []
  page.on('requestfailed', (r) => failed.push(r.url()))
  page.on('pageerror', (err) => failed.push(`page error: ${err.message}`))

  await page.goto(`${address}/docs`, { waitUntil: 'load' })
  await page.locator('.opblock').first().waitFor({ timeout: 20_000 })
  t.equal(await page.locator('.opblock').count(), operations.length, 'one block per operation')
  t.match(await page.locator('.info .title').innerText(), /sessiond/)

  const text = await page.locator('#swagger-ui').innerText()
  for (const op of operations) {
    t.ok(text.includes(op.summary), `"${op.summary}" is visible`)
    t.ok(text.includes(op.operationId), `operationId ${op.operationId} is visible`)
  }

  // Expand one operation: its responses, with the error codes, render from the document.
  await page.locator('.opblock-summary', { hasText: 'validateSession' }).first().click()
  await page.locator('.responses-table').first().waitFor({ timeout: 10_000 })
  t.match(await page.locator('.opblock.is-open').first().innerText(), /SESSION_INVALID/)

  mkdirSync('test-artifacts', { recursive: true })
  await page.screenshot({ path: 'test-artifacts/docs.png', fullPage: true })
  t.same(failed.filter((u) => u.startsWith(address) || u.startsWith('page error')), [], 'no failed requests or page errors')
})
