import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

t.test('forward-auth configuration', async (t) => {
  const c = loadConfig({})
  t.equal(c.LOGIN_URL, undefined, 'LOGIN_URL unset by default: plain 401')
  t.equal(c.FORWARD_AUTH_HEADERS, 'x-auth')
  t.equal(loadConfig({ LOGIN_URL: 'https://login.example.test/in?app=1' }).LOGIN_URL, 'https://login.example.test/in?app=1')
  t.equal(loadConfig({ FORWARD_AUTH_HEADERS: 'remote' }).FORWARD_AUTH_HEADERS, 'remote')

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ LOGIN_URL: '/login' }, /LOGIN_URL/],
    [{ LOGIN_URL: 'ftp://login.example.test/' }, /LOGIN_URL/],
    [{ LOGIN_URL: 'https://login example/' }, /LOGIN_URL/],
    [{ LOGIN_URL: 'https://[bad/' }, /LOGIN_URL must be an absolute http\(s\) URL/],
    [{ FORWARD_AUTH_HEADERS: 'authelia' }, /FORWARD_AUTH_HEADERS/]
  ]
  for (const [env, message] of bad) {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env))
  }
  t.ok(new ConfigError('x') instanceof Error)
})
