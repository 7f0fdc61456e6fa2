import t from 'tap'
import { buildApp } from '../../src/app.js'
import { testConfig } from '../helper.js'

// Found by the fuzzer: Fastify's router answers a malformed escape in a path parameter (400
// FST_ERR_BAD_URL) and a path parameter over 100 characters (414 FST_ERR_MAX_PARAM_LENGTH) itself,
// bypassing the error handler: an undocumented status and code. Both are now 400 VALIDATION_FAILED.
t.test('router errors get the usual error shape and a stable code', async (t) => {
  const app = await buildApp(testConfig(), { logger: false })
  t.teardown(() => app.close())
  app.get('/fuzz-probe/:id', { schema: { hide: true } }, async () => ({ ok: true }))
  await app.ready()

  for (const url of ['/fuzz-probe/%', '/fuzz-probe/%E0%A4%A', `/fuzz-probe/${'a'.repeat(101)}`, `/fuzz-probe/${encodeURIComponent('é'.repeat(120))}`]) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 400, url)
    t.same(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'statusCode'])
    t.equal(res.json().code, 'VALIDATION_FAILED')
    t.equal(res.json().error, 'Bad Request')
  }
  t.equal((await app.inject({ url: `/fuzz-probe/${'a'.repeat(100)}` })).statusCode, 200, '100 characters still route')
})
