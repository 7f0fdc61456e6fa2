import { Cluster, type Redis } from 'ioredis'
import t from 'tap'
import { bearer, build, register } from '../helper.js'

t.test('one forward-auth check is one Redis command (GET inside the throttle window), as validate', async (t) => {
  const app = await build(t)
  if (app.redis instanceof Cluster) {
    t.comment('skipped: MONITOR needs a single node')
    return
  }
  const u = await register(app)
  await app.inject({ url: '/v1/auth/forward', headers: bearer(u.token) }) // slides it (EVALSHA); the checks below are inside the throttle window
  const redis = app.redis as Redis
  const monitor = await redis.monitor()
  const seen: string[] = []
  // MONITOR shows every client of the shared Redis; keep only this app's connection, without the
  // connection watchdog's PING (one a second, whatever the traffic).
  const source = `127.0.0.1:${redis.stream.localPort}`
  monitor.on('monitor', (_time: string, args: string[], from: string) => {
    const command = String(args[0]).toLowerCase()
    if (from === source && command !== 'ping') seen.push(command)
  })
  await new Promise((resolve) => setTimeout(resolve, 50))
  for (let i = 0; i < 5; i++) {
    t.equal((await app.inject({ url: '/v1/auth/forward?role=user', headers: bearer(u.token) })).statusCode, 200)
    t.equal((await app.inject({ url: '/v1/auth/request', headers: { cookie: u.cookie } })).statusCode, 200)
  }
  await new Promise((resolve) => setTimeout(resolve, 100))
  monitor.disconnect()
  t.same(seen, Array(10).fill('get'), '10 checks → 10 GET, nothing else from the client')
})
