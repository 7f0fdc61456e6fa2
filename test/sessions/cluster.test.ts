import { spawnSync } from 'node:child_process'
import t from 'tap'
import { createRedisClient } from '../../src/plugins/redis.js'
import { createRedisSessionStore } from '../../src/sessions/redis-store.js'
import { userTag } from '../../src/sessions/token.js'
import { startRedisCluster } from '../support/redis-cluster.js'
import { bearer, build, login, PASSWORD, register, RUN_PREFIX, testConfig } from '../helper.js'
import { OPTIONS, storeContract } from './store-contract.js'

/*
 * Session management on a real 3-master Redis Cluster started for this file (own ports, own
 * processes, stopped by pid): a user's keys share one hash slot, different users land in different
 * slots, and nothing may answer CROSSSLOT (which would surface as a 503).
 */
const hasRedis = spawnSync('redis-server', ['--version']).status === 0
if (!hasRedis) t.plan(0, 'redis-server not installed')

if (hasRedis) {
  t.test('on a Redis Cluster', async (t) => {
    const nodes = await startRedisCluster(t)
    const env = { REDIS_URL: undefined, REDIS_CLUSTER_NODES: nodes }

    t.test('store contract', async (t) => {
      const redis = createRedisClient(testConfig(env))
      t.teardown(() => redis.quit())
      storeContract(t, async (_t, clock) => createRedisSessionStore({ redis, prefix: `${RUN_PREFIX}cstore:`, clock, options: OPTIONS }))
    })

    t.test('my sessions, my account and the admin API', async (t) => {
      const TOKEN = 'cluster-admin-token-0123456789'
      const app = await build(t, { ...env, ADMIN_TOKEN: TOKEN })
      const admin = bearer(TOKEN)
      const u = await register(app)
      const second = (await login(app, u.email)).json()
      const other = await register(app)
      t.not(userTag(u.body.user.id), userTag(other.body.user.id))

      const foreign = await app.inject({ method: 'DELETE', url: `/v1/sessions/${other.body.session.id}`, headers: bearer(u.token) })
      t.equal(foreign.statusCode, 404, "another user's session (another slot) is a 404, not a CROSSSLOT 503")
      const list = await app.inject({ url: '/v1/sessions', headers: bearer(u.token) })
      t.equal(list.json().length, 2)
      const one = await app.inject({ method: 'DELETE', url: `/v1/sessions/${second.session.id}`, headers: bearer(u.token) })
      t.equal(one.statusCode, 204)

      const renamed = await app.inject({ method: 'PATCH', url: '/v1/users/me', headers: bearer(u.token), payload: { name: 'Clustered' } })
      t.equal(renamed.statusCode, 200)
      const roles = await app.inject({ method: 'PATCH', url: `/admin/v1/users/${u.body.user.id}`, headers: admin, payload: { roles: ['user', 'ops'] } })
      t.equal(roles.statusCode, 200)
      const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })
      t.same(v.json().user, { id: u.body.user.id, email: u.email, name: 'Clustered', roles: ['user', 'ops'] })

      const changed = await app.inject({ method: 'POST', url: '/v1/users/me/password', headers: bearer(u.token), payload: { currentPassword: PASSWORD, newPassword: 'clustered passphrase 99' } })
      t.equal(changed.statusCode, 200)
      t.equal((await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })).statusCode, 401)
      const fresh = changed.json().token as string

      const user = { id: u.body.user.id, email: u.email, name: 'Clustered', roles: ['user', 'ops'] }
      for (let i = 0; i < 1000; i += 100) {
        await Promise.all(Array.from({ length: 100 }, () => app.sessions.create(user, { ip: null, userAgent: null })))
      }
      t.equal((await app.inject({ url: '/v1/sessions', headers: bearer(fresh) })).json().length, 1001)
      const others = await app.inject({ method: 'DELETE', url: '/v1/sessions?scope=others', headers: bearer(fresh) })
      t.same(others.json(), { revoked: 1000 })

      const revokeAny = await app.inject({ method: 'DELETE', url: `/admin/v1/sessions/${other.body.session.id}`, headers: admin })
      t.equal(revokeAny.statusCode, 204)

      const del = await app.inject({ method: 'DELETE', url: `/admin/v1/users/${u.body.user.id}`, headers: admin })
      t.equal(del.statusCode, 204)
      const id = fresh.split('.')[0] as string
      t.equal(await app.redis.exists(`${RUN_PREFIX}s:{${id.slice(0, 12)}}${id.slice(12)}`), 0)
      t.equal(await app.redis.exists(`${RUN_PREFIX}u:{${userTag(u.body.user.id)}}${u.body.user.id}`), 0)
    })
  })
}
