// npm run bench:ab -- [--rounds N] [--seconds S] [--connections C] VARIANT...
//
// A/B runs for a change to the hot path, as bench/findings.md reports them: every VARIANT is a
// server process of its own, all are driven by wrk in interleaved rounds (the order reversed every
// other round), and each line gives the medians of req/s, p50, p99 and the server's CPU per request,
// with the median per-round ratios to the first variant. One sessiond process can run 5-10% faster
// or slower than another of the same build for its whole life, so name each build two or more
// times: `forward@HEAD~1 forward forward@HEAD~1 forward`.
//
// VARIANT = KIND[@REF][+NODE_FLAGS]
//   KIND  forward         sessiond's GET /v1/auth/forward (bearer)
//         validate        sessiond's POST /v1/sessions/validate
//         limit           the bench's corked limit route (bench/peers/limit.ts), GET /me
//         forward-control the limit's forward-auth-shaped control, GET /forward
//         body-control    the limit's validate-shaped control, POST /validate
//   REF   a git commit for sessiond: built once in a worktree under the temp dir, sharing this
//         checkout's node_modules. Without it, the working tree (npm run build).
//   NODE_FLAGS  node flags, comma-separated: forward+--trace-gc-nvp. A sessiond's output goes to
//         <tmp>/sessiond-ab-<i>.log, where i is its place on the command line. limit,
//         forward-control and body-control share one process: the flags of the first of them
//         named apply to it.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { cpuSeconds, freePort, startNodePeer, stopAll, type Proc } from './lib/proc.js'
import { startRedis } from './lib/redis.js'
import { seedLimit } from './lib/seed.js'
import { DEFAULT_DATABASE_URL, buildAndMigrate, checkout, register, startSessiond } from './lib/sessiond.js'
import { median } from './lib/stats.js'
import { wrk, type Target } from './lib/wrk.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '12' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' }
  }
})
const rounds = Number(values.rounds)
const seconds = Number(values.seconds)
const connections = Number(values.connections)
if (positionals.length === 0) {
  console.error('usage: npm run bench:ab -- [--rounds N] [--seconds S] [--connections C] VARIANT...  (see bench/ab.ts)')
  process.exit(2)
}
const databaseUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_DATABASE_URL
const tmp = mkdtempSync(join(tmpdir(), 'sessiond-ab-'))

interface Runner { name: string, target: Target }
interface Sample { rps: number, p50: number, p99: number, cpuUs: number }

async function main () {
  const redis = await startRedis('ab')
  const [limitToken] = await seedLimit(redis.admin, 1) as [string]
  const limitList = join(tmp, 'limit.txt')
  writeFileSync(limitList, limitToken + '\n')
  await buildAndMigrate(root, databaseUrl)

  let limit: { proc: Proc, port: number } | undefined
  const runners: Runner[] = []
  for (const [i, spec] of positionals.entries()) {
    const [head = '', flags = ''] = spec.split('+', 2)
    const [kind, ref] = head.split('@', 2)
    const name = `${i}:${spec}`
    if (kind === 'limit' || kind === 'forward-control' || kind === 'body-control') {
      // One limit process serves all three routes; node flags given to the first of them apply to it.
      if (limit === undefined) {
        const port = await freePort()
        limit = { proc: await startNodePeer('limit.ts', port, redis.url, { REDIS_WRITES: 'corked' }, flags.split(',').filter(Boolean)), port }
      }
      const body = kind === 'body-control'
      const path = kind === 'limit' ? '/me' : body ? '/validate' : '/forward'
      runners.push({ name, target: { port: limit.port, method: body ? 'POST' : 'GET', path, auth: body ? 'body' : 'bearer', listFile: limitList, pid: limit.proc.pid } })
    } else if (kind === 'forward' || kind === 'validate') {
      const port = await freePort()
      const proc = await startSessiond({
        cwd: checkout(root, ref),
        port,
        redisUrl: redis.url,
        databaseUrl,
        name,
        nodeArgs: flags.split(',').filter(Boolean),
        logFile: join(tmp, `sessiond-ab-${i}.log`)
      })
      const list = join(tmp, `token-${i}.txt`)
      writeFileSync(list, (await register(port)).token + '\n')
      runners.push({
        name,
        target: kind === 'forward'
          ? { port, method: 'GET', path: '/v1/auth/forward', auth: 'bearer', listFile: list, pid: proc.pid }
          : { port, method: 'POST', path: '/v1/sessions/validate', auth: 'body', listFile: list, pid: proc.pid }
      })
    } else {
      throw new Error(`unknown variant ${spec} (see bench/ab.ts)`)
    }
  }

  for (const r of runners) await wrk(r.target, { connections, seconds: 2 })
  const samples = new Map<string, Sample[]>(runners.map((r) => [r.name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const r of round % 2 === 0 ? runners : [...runners].reverse()) {
      const cpu0 = cpuSeconds(r.target.pid!)
      const w = await wrk(r.target, { connections, seconds })
      const cpuUs = (cpuSeconds(r.target.pid!) - cpu0) / Math.max(1, w.requests) * 1e6
      if (w.errors.status > 0) console.log(`${r.name}: ${w.errors.status} responses not 2xx`)
      samples.get(r.name)!.push({ rps: w.rps, p50: w.latencyUs.p50, p99: w.latencyUs.p99, cpuUs })
    }
    console.log(`round ${round + 1}/${rounds}`, runners.map((r) => {
      const s = samples.get(r.name)!.at(-1)!
      return `${r.name} ${Math.round(s.rps)}/s ${s.cpuUs.toFixed(1)} µs`
    }).join(' | '))
  }

  const base = samples.get(runners[0]!.name)!
  const ratio = (xs: Sample[], k: keyof Sample) => median(xs.map((x, i) => x[k] / base[i]![k])).toFixed(3)
  const width = Math.max(...runners.map((r) => r.name.length))
  for (const r of runners) {
    const xs = samples.get(r.name)!
    const m = (k: keyof Sample) => median(xs.map((x) => x[k]))
    console.log(`${r.name.padEnd(width)}  ${Math.round(m('rps'))} req/s ×${ratio(xs, 'rps')}  ` +
      `p50 ${(m('p50') / 1000).toFixed(2)} ms ×${ratio(xs, 'p50')}  p99 ${(m('p99') / 1000).toFixed(2)} ms ×${ratio(xs, 'p99')}  ` +
      `cpu ${m('cpuUs').toFixed(1)} µs/req ×${ratio(xs, 'cpuUs')}`)
  }
  console.log(`sessiond logs: ${tmp}`)
  await stopAll()
  await redis.stop()
}

main().catch(async (err) => {
  console.error(err)
  await stopAll()
  process.exit(1)
})
