import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { PASSWORD, uniqueEmail } from './helper.js'

t.test('with no configuration: PGlite + in-process sessions serve a registration and a login', async (t) => {
  const lines: string[] = []
  const stream = { write: (line: string) => { lines.push(line) } }
  const app = await buildApp(loadConfig({ NODE_ENV: 'development' }), { logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.ready()
  t.equal(app.database.kind, 'pglite')
  t.equal(app.sessions.kind, 'memory')
  t.equal(lines.filter((l) => /embedded mode/.test(l)).length, 1, 'one warning line')
  t.match(lines.join(''), /not for production|for trying and developing only/)

  const email = uniqueEmail('embedded')
  const reg = await app.inject({ method: 'POST', url: '/v1/users', payload: { email, password: PASSWORD } })
  t.equal(reg.statusCode, 201)
  const dup = await app.inject({ method: 'POST', url: '/v1/users', payload: { email: email.toUpperCase(), password: PASSWORD } })
  t.equal(dup.statusCode, 409, 'same unique index as on PostgreSQL')
  const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password: PASSWORD } })
  t.equal(res.statusCode, 201)
  const token = res.json().token
  const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
  t.equal(v.statusCode, 200)
  t.equal(v.json().user.email, email)
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200)
})
