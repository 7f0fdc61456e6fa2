// node --import tsx bench/login-cost.ts
//
// What a login costs beside argon2: one sessiond (built from this checkout) with argon2 made
// trivial (LOGIN_COST_ARGON2_KIB=1024, LOGIN_COST_ARGON2_T=1 by default), 16 users, 8 wrk
// connections logging in for LOGIN_COST_ROUNDS rounds of 5 s. Per round: logins per second, p50,
// and the CPU per login of sessiond (every thread) and of PostgreSQL (every postgres process).
// LOGIN_COST_NODE_ARGS passes node flags, comma-separated (--cpu-prof,--cpu-prof-dir=/tmp/p), and
// LOGIN_COST_REF measures a commit instead of the working tree (built in a worktree, as bench:ab).
// The full bench measures logins with the real parameters against raw argon2; this isolates the
// part of a login sessiond can change. Run builds against each other in turns: the machine drifts.
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpuSeconds, freePort, stopAll } from './lib/proc.js'
import { startRedis } from './lib/redis.js'
import { DEFAULT_DATABASE_URL, buildAndMigrate, checkout, loginUsers, startSessiond } from './lib/sessiond.js'
import { wrk } from './lib/wrk.js'

const env = process.env
const root = fileURLToPath(new URL('..', import.meta.url))
const databaseUrl = env.BENCH_DATABASE_URL ?? DEFAULT_DATABASE_URL

function postgresCpu (): number {
  const pids = execFileSync('pgrep', ['-x', 'postgres']).toString().trim().split('\n')
  return pids.reduce((sum, pid) => sum + (cpuSeconds(Number(pid)) || 0), 0)
}

const redis = await startRedis('login-cost')
try {
  await buildAndMigrate(root, databaseUrl)
  const port = await freePort()
  const proc = await startSessiond({
    cwd: checkout(root, env.LOGIN_COST_REF),
    port,
    redisUrl: redis.url,
    databaseUrl,
    nodeArgs: (env.LOGIN_COST_NODE_ARGS ?? '').split(',').filter(Boolean),
    env: { ARGON2_MEMORY_KIB: env.LOGIN_COST_ARGON2_KIB ?? '1024', ARGON2_TIME_COST: env.LOGIN_COST_ARGON2_T ?? '1' }
  })
  const { target } = await loginUsers(port, 16, join(mkdtempSync(join(tmpdir(), 'login-cost-')), 'logins.txt'))
  target.pid = proc.pid
  await wrk(target, { connections: 8, seconds: 3, threads: 1 })
  for (let round = 0; round < Number(env.LOGIN_COST_ROUNDS ?? 3); round++) {
    const cpu0 = cpuSeconds(proc.pid!)
    const pg0 = postgresCpu()
    const w = await wrk(target, { connections: 8, seconds: 5, threads: 1 })
    const perLogin = (seconds: number) => (seconds / Math.max(1, w.requests) * 1e6).toFixed(0)
    console.log(`logins ${w.rps.toFixed(0)}/s, p50 ${(w.latencyUs.p50 / 1000).toFixed(2)} ms; CPU per login: ` +
      `sessiond ${perLogin(cpuSeconds(proc.pid!) - cpu0)} µs, postgres ${perLogin(postgresCpu() - pg0)} µs` +
      (w.errors.status > 0 ? `; ${w.errors.status} not 2xx` : ''))
  }
} finally {
  await stopAll()
  await redis.stop()
}
