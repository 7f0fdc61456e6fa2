import t from 'tap'
import { Cluster } from 'ioredis'
import { build, PASSWORD, register, RUN_PREFIX, uniqueEmail } from '../helper.js'
import { waitFor } from '../support/ports.js'
import { startRedisCluster, startRedisClusterWithPids } from '../support/redis-cluster.js'

/*
 * Everything sessiond does, on a real 3-master Redis Cluster: every multi-key operation stays in
 * one hash slot (no CROSSSLOT, checked in each node's error statistics), users spread over the
 * nodes, revoke-all kills every session of a user. Uses TEST_REDIS_CLUSTER_NODES when CI started
 * a cluster, otherwise starts its own.
 */

t.test('sessions on a Redis Cluster', async (t) => {
  const nodes = process.env.TEST_REDIS_CLUSTER_NODES || await startRedisCluster(t)
  const app = await build(t, { REDIS_URL: undefined, REDIS_CLUSTER_NODES: nodes })
  t.ok(app.redis instanceof Cluster, 'the Cluster client is in use')
  const admin = new Cluster(nodes.split(',').map((hp) => ({ host: hp.split(':')[0] as string, port: Number(hp.split(':')[1]) })))
  t.teardown(() => admin.quit())

  // Lua scripts are defined on the Cluster client: make sure they also survive a SCRIPT FLUSH
  // (EVALSHA → NOSCRIPT → EVAL fallback on the node that owns the slot).
  const users = []
  for (let i = 0; i < 6; i++) users.push(await register(app, { email: uniqueEmail('cluster') }))
  for (const node of admin.nodes('master')) await node.script('FLUSH')

  const tokens = new Map<string, string[]>()
  for (const u of users) {
    const list = [u.token]
    for (let i = 0; i < 4; i++) {
      const res = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: u.email, password: PASSWORD } })
      t.equal(res.statusCode, 201, 'login')
      list.push(res.json().token)
    }
    tokens.set(u.body.user.id, list)
  }

  // Users land on different nodes (one tag per user, not one tag for everything).
  let holding = 0
  for (const node of admin.nodes('master')) {
    const [, keys] = await node.scan('0', 'MATCH', `${RUN_PREFIX}s:*`, 'COUNT', 10000)
    if (keys.length > 0) holding++
  }
  t.ok(holding >= 2, `sessions are spread over ${holding} of 3 nodes`)

  for (const [userId, list] of tokens) {
    const sessions = await app.sessions.listByUser(userId)
    t.equal(sessions.length, 5, 'list by user sees every session')
    const v = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: list[0] } })
    t.equal(v.statusCode, 200, 'validate')
    t.equal(await app.sessions.updateUser({ ...v.json().user, name: 'Renamed' }), 5, 'update reaches every session')
    t.ok(await app.sessions.revoke(sessions[0]?.id as string, userId), 'revoke one')
    t.equal(await app.sessions.revokeAllForUser(userId), 4, 'revoke all counts the rest')
    for (const token of list) {
      const after = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
      t.equal(after.statusCode, 401, 'every session of the user is dead')
    }
    t.same(await app.sessions.listByUser(userId), [])
  }

  // Brute-force counters and the registration limit live on the cluster too.
  const u = users[0] as (typeof users)[number]
  const wrong = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { email: u.email, password: 'wrong wrong' } })
  t.equal(wrong.statusCode, 401)
  const logout = await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: { cookie: u.cookie } })
  t.equal(logout.statusCode, 204)
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200)

  for (const node of admin.nodes('master')) {
    const stats = await node.info('errorstats')
    t.notMatch(stats, /CROSSSLOT/, `no CROSSSLOT error on ${node.options.port}`)
  }
})

t.test('a hanging cluster answers 503 within the bound and recovers', async (t) => {
  const { nodes, pids } = await startRedisClusterWithPids(t)
  const app = await build(t, { REDIS_URL: undefined, REDIS_CLUSTER_NODES: nodes })
  const u = await register(app)
  for (const pid of pids) process.kill(pid, 'SIGSTOP')
  t.teardown(() => { for (const pid of pids) try { process.kill(pid, 'SIGCONT') } catch {} })
  for (let i = 0; i < 3; i++) {
    const started = performance.now()
    const res = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })
    const ms = performance.now() - started
    t.equal(res.statusCode, 503)
    t.equal(res.json().code, 'STORE_UNAVAILABLE')
    t.ok(ms < 1000, `answered in ${Math.round(ms)} ms (bound: 1000)`)
  }
  for (const pid of pids) process.kill(pid, 'SIGCONT')
  const started = performance.now()
  await waitFor(async () => (await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token: u.token } })).statusCode === 200,
    20_000, 'validate to answer 200 again')
  t.comment(`recovered ${Math.round(performance.now() - started)} ms after SIGCONT`)
  t.pass('the session works again')
})
