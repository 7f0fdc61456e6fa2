import { spawnSync } from 'node:child_process'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

t.test('defaults', async (t) => {
  const c = loadConfig({})
  t.equal(c.PORT, 3000)
  t.equal(c.SESSION_IDLE_TTL, 604800)
  t.equal(c.SESSION_ABSOLUTE_TTL, 2592000)
  t.equal(c.cookieName, '__Host-session')
  t.equal(c.ARGON2_MEMORY_KIB, 19456)
  t.equal(c.embeddedDatabase, true)
  t.equal(c.embeddedSessions, true)
  t.equal(loadConfig({ COOKIE_SECURE: 'false' }).cookieName, 'session')
  t.equal(loadConfig({ COOKIE_DOMAIN: 'example.com' }).cookieName, '__Secure-session')
  t.equal(loadConfig({ DATABASE_URL: '', REDIS_URL: '' }).embeddedSessions, true, 'empty means unset')
})

t.test('a bad value names the variable and what it expected', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /PORT: must be integer/],
    [{ PORT: '70000' }, /PORT: must be <= 65535/],
    [{ SESSION_IDLE_TTL: '10' }, /SESSION_IDLE_TTL: must be >= 60/],
    [{ COOKIE_SECURE: 'maybe' }, /COOKIE_SECURE: must be boolean/],
    [{ COOKIE_SAMESITE: 'sometimes' }, /COOKIE_SAMESITE/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must match pattern/],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL: must match pattern/],
    [{ REDIS_KEY_PREFIX: 'a{b}' }, /REDIS_KEY_PREFIX/],
    [{ SESSION_IDLE_TTL: '7200', SESSION_ABSOLUTE_TTL: '3600' }, /SESSION_ABSOLUTE_TTL must be at least SESSION_IDLE_TTL/],
    [{ COOKIE_SECURE: 'false', COOKIE_SAMESITE: 'none' }, /COOKIE_SAMESITE=none requires COOKIE_SECURE=true/],
    [{ COOKIE_SECURE: 'false', COOKIE_NAME: '__Host-x' }, /__Host-/],
    [{ REDIS_URL: 'redis://a', REDIS_CLUSTER_NODES: 'a:1' }, /only one of/],
    [{ NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379' }, /DATABASE_URL is required when NODE_ENV=production/],
    [{ NODE_ENV: 'production', DATABASE_URL: 'postgres://x/y' }, /REDIS_URL .* is required when NODE_ENV=production/]
  ]
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), ConfigError, JSON.stringify(env))
    try { loadConfig(env) } catch (err) { t.match((err as Error).message, message) }
  }
})

t.test('the server refuses to start with a bad or missing configuration, naming the variable', async (t) => {
  const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 30_000
  })
  const prod = run({ NODE_ENV: 'production' })
  t.equal(prod.status, 1)
  t.match(prod.stderr, /DATABASE_URL is required when NODE_ENV=production/)
  t.notMatch(prod.stdout, /listening/, 'no silent fallback to memory')
  const bad = run({ PORT: 'eighty' })
  t.equal(bad.status, 1)
  t.match(bad.stderr, /PORT: must be integer/)
})
