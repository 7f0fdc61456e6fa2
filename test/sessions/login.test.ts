import t from 'tap'
import { sql } from 'drizzle-orm'
import { bearer, build, login, PASSWORD, register, uniqueEmail } from '../helper.js'

t.test('login ok: a new session with a cookie and a token', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const res = await login(app, `  ${u.email.toUpperCase()} `)
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.equal(body.user.id, u.body.user.id, 'email is case-insensitive and trimmed')
  t.not(body.token, u.token)
  t.equal(res.cookies.find((c) => c.name === '__Host-session')?.value, body.token)
})

t.test('wrong password, unknown email and disabled account: identical 401 bodies', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const disabled = await register(app)
  await app.users.update(disabled.body.user.id, { disabledAt: new Date() })
  const wrong = await login(app, u.email, 'not the password at all')
  const unknown = await login(app, uniqueEmail('nobody'), PASSWORD)
  const off = await login(app, disabled.email, PASSWORD)
  for (const res of [wrong, unknown, off]) {
    t.equal(res.statusCode, 401)
    t.notOk(res.headers['set-cookie'], 'no cookie')
  }
  t.same(wrong.json(), { statusCode: 401, code: 'INVALID_CREDENTIALS', error: 'Unauthorized', message: 'invalid email or password' })
  t.equal(unknown.body, wrong.body)
  t.equal(off.body, wrong.body)
})

t.test('two logins make two sessions; two users different sessions', async (t) => {
  const app = await build(t)
  const a = await register(app)
  const b = await register(app)
  const l1 = (await login(app, a.email)).json()
  const l2 = (await login(app, a.email)).json()
  t.not(l1.session.id, l2.session.id)
  for (const [token, id] of [[l1.token, a.body.user.id], [l2.token, a.body.user.id], [b.token, b.body.user.id]]) {
    const res = await app.inject({ url: '/v1/sessions/current', headers: bearer(token) })
    t.equal(res.json().user.id, id)
  }
})

t.test('login while holding a session revokes the old one (session fixation)', async (t) => {
  const app = await build(t)
  const u = await register(app)
  const res = await login(app, u.email, PASSWORD, { cookie: u.cookie })
  t.equal(res.statusCode, 201)
  const old = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })
  t.equal(old.statusCode, 401, 'the old token is dead')
  const fresh = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: res.json().token } })
  t.equal(fresh.statusCode, 200)

  // Holding someone else's session and logging in as yourself revokes that one too.
  const other = await register(app)
  const mine = await login(app, u.email, PASSWORD, bearer(other.token))
  t.equal(mine.json().user.id, u.body.user.id)
  t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: other.token } })).statusCode, 401)
})

t.test('a hash with weaker parameters is upgraded at login', async (t) => {
  const weak = await build(t, { ARGON2_MEMORY_KIB: '4096', ARGON2_TIME_COST: '1' })
  const u = await register(weak)
  t.match((await weak.users.findByEmail(u.email))?.passwordHash, /^\$argon2id\$v=19\$m=4096,t=1,p=1\$/)
  const app = await build(t)
  t.equal((await login(app, u.email)).statusCode, 201)
  t.match((await app.users.findByEmail(u.email))?.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'rehashed with the configured parameters')
  t.equal((await login(app, u.email)).statusCode, 201, 'and the password still works')
})

t.test('login input errors are 400 with a code', async (t) => {
  const app = await build(t)
  for (const payload of [{}, { email: 'a@b.c' }, { email: 'a@b.c', password: 5 }, { email: '', password: 'x' }, { email: 'a\u0000@b.c', password: 'longenough' }]) {
    const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.equal(res.json().code, 'VALIDATION_FAILED')
  }
})

// Behind a pooler in transaction mode (PgBouncer before 1.21, or max_prepared_statements = 0), a
// named statement prepared on one server connection is missing or already taken on the next:
// DATABASE_PREPARED_STATEMENTS=false must leave none on the connection. One pooled connection, so
// the query below runs on the connection the logins used.
t.test('DATABASE_PREPARED_STATEMENTS: logins leave named statements on the connection only when on', async (t) => {
  for (const [setting, expected] of [['true', ['users_by_email', 'users_by_id']], ['false', []]] as const) {
    const app = await build(t, { DATABASE_POOL_SIZE: '1', DATABASE_PREPARED_STATEMENTS: setting })
    const u = await register(app)
    for (let i = 0; i < 2; i++) t.equal((await login(app, u.email)).statusCode, 201, `login ${i + 1} with ${setting}`)
    const result = await app.database.db.execute(sql`select name from pg_prepared_statements order by name`) as unknown as { rows: Array<{ name: string }> }
    t.same(result.rows.map((r) => r.name), expected, `prepared statements with ${setting}`)
  }
})
