/*
 * Forward-auth throughput through nginx (examples/nginx.conf), against the same upstream reached
 * straight and through nginx without auth. Prints medians of per-round ratios from interleaved
 * rounds (the machine is noisy; only ratios from one run mean anything). A measurement, not a test.
 *
 *   npm run bench:forward-auth            # needs nginx and wrk (apt-get install -y nginx wrk) and Redis
 *   ROUNDS=5 DURATION=10 CONNECTIONS=50 NGINX_WORKERS=1 npm run bench:forward-auth
 *
 * Redis: REDIS_URL (default redis://127.0.0.1:6379, keys under a fresh prefix, deleted at the end).
 * Users: DATABASE_URL when set, else the embedded PGlite (only registration touches it).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { findNginx, freePort, send, startNginx } from '../test/forward-auth/nginx.js'

const ROUNDS = Number(process.env.ROUNDS ?? 3)
const DURATION = Number(process.env.DURATION ?? 8)
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50)
const NGINX_WORKERS = Number(process.env.NGINX_WORKERS ?? 1)
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const root = fileURLToPath(new URL('..', import.meta.url))

const children: ChildProcess[] = []
function start (args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  children.push(child)
  return child
}

async function waitFor (port: number, path: string) {
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      if ((await send(port, path)).status < 500) return
    } catch {}
    if (Date.now() > deadline) throw new Error(`nothing answered on port ${port}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

interface Result { rps: number, p50: number, p99: number }

const ms = (value: string, unit: string) => Number(value) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit]!

function wrk (url: string, headers: Record<string, string> = {}): Result {
  const args = ['-t2', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url]
  const out = execFileSync('wrk', args, { encoding: 'utf8' })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
  const lat = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out)
    return m ? ms(m[1]!, m[2]!) : NaN
  }
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`non-2xx responses from ${url}:\n${out}`)
  return { rps, p50: lat('50'), p99: lat('99') }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

async function main () {
  const nginxBinary = findNginx()
  if (nginxBinary === null) throw new Error('nginx is not installed (apt-get install -y nginx)')
  try { execFileSync('wrk', ['--version'], { stdio: 'ignore' }) } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('wrk is not installed (apt-get install -y wrk)')
  }

  // The upstream: a bare node:http server in its own process, as an app behind the gateway would be.
  const appPort = await freePort()
  start(['-e', `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'text/plain'); s.end('user ' + (q.headers['x-auth-user-id'] || '-')) }).listen(${appPort}, '127.0.0.1')`], {})

  const prefix = `bench-fwd:${randomBytes(4).toString('hex')}:`
  const sessiondPort = await freePort()
  start(['--import', 'tsx', 'src/server.ts'], {
    HOST: '127.0.0.1',
    PORT: String(sessiondPort),
    LOG_LEVEL: 'warn',
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    COOKIE_SECURE: 'false',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {})
  })
  await Promise.all([waitFor(appPort, '/'), waitFor(sessiondPort, '/health/live')])

  const reg = await send(sessiondPort, '/v1/users', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench-${randomBytes(4).toString('hex')}@example.test`, password: 'correct horse battery staple', name: 'Bench' })
  })
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.body}`)
  const { token, user } = JSON.parse(reg.body) as { token: string, user: { id: string } }
  const cookie = { cookie: `session=${token}` }

  const nginx = await startNginx(nginxBinary, { sessiond: sessiondPort, app: appPort }, NGINX_WORKERS, `
    # bench only: the same upstream through nginx, without auth_request
    location /_bench/noauth/ {
      auth_request off;
      proxy_pass http://app;
    }`)
  try {
    const check = await send(nginx.port, '/', { headers: cookie })
    if (check.status !== 200 || check.body !== `user ${user.id}`) throw new Error(`nginx + sessiond did not let the user through: ${check.status} ${check.body}`)
    if ((await send(nginx.port, '/')).status !== 401) throw new Error('nginx let an anonymous request through')

    const scenarios: Record<string, () => Result> = {
      direct: () => wrk(`http://127.0.0.1:${appPort}/`),
      'nginx (no auth)': () => wrk(`http://127.0.0.1:${nginx.port}/_bench/noauth/`),
      'nginx + sessiond': () => wrk(`http://127.0.0.1:${nginx.port}/`, cookie),
      'sessiond alone': () => wrk(`http://127.0.0.1:${sessiondPort}/v1/auth/request`, cookie)
    }
    const results: Record<string, Result[]> = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]))
    console.log(`${availableParallelism()} cores, wrk -t2 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} interleaved rounds; nginx ${NGINX_WORKERS} worker(s), sessiond 1 process, upstream 1 process`)
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, run] of Object.entries(scenarios)) {
        const r = run()
        results[name]!.push(r)
        console.log(`round ${round}  ${name.padEnd(18)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`)
      }
    }

    const ratio = (a: string, b: string) => median(results[a]!.map((r, i) => r.rps / results[b]![i]!.rps))
    console.log('\nmedians')
    for (const [name, rs] of Object.entries(results)) {
      console.log(`  ${name.padEnd(18)} ${median(rs.map((r) => r.rps)).toFixed(0).padStart(7)} req/s  p50 ${median(rs.map((r) => r.p50)).toFixed(2)} ms  p99 ${median(rs.map((r) => r.p99)).toFixed(2)} ms`)
    }
    console.log('ratios (median of per-round ratios)')
    console.log(`  nginx + sessiond / direct upstream   ${ratio('nginx + sessiond', 'direct').toFixed(2)}x`)
    console.log(`  nginx + sessiond / nginx without auth ${ratio('nginx + sessiond', 'nginx (no auth)').toFixed(2)}x`)
    console.log(`  nginx + sessiond / sessiond alone     ${ratio('nginx + sessiond', 'sessiond alone').toFixed(2)}x`)
  } finally {
    await nginx.stop()
  }

  // Only our own keys, by our own prefix: never a flush of a shared Redis.
  const redis = new Redis(REDIS_URL)
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    if ((keys as string[]).length) await redis.del(...(keys as string[]))
  }
  await redis.quit()
}

try {
  await main()
} finally {
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
}
