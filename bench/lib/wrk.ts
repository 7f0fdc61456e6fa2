// Load generation: wrk with one Lua script (bench/lib/wrk.lua) for all variants.
import { fileURLToPath } from 'node:url'
import { run } from './proc.js'

const script = fileURLToPath(new URL('./wrk.lua', import.meta.url))

export interface Target {
  port: number
  method: 'GET' | 'POST'
  path: string
  auth: 'none' | 'bearer' | 'cookie' | 'body' | 'login'
  cookieName?: string
  /** file with one credential per line */
  listFile?: string
  /** the server's pid, for CPU accounting */
  pid?: number
}

export interface WrkResult {
  requests: number
  durationUs: number
  rps: number
  bytes: number
  errors: { connect: number, read: number, write: number, status: number, timeout: number }
  latencyUs: { mean: number, max: number, p50: number, p90: number, p99: number, p999: number }
}

export async function wrk (t: Target, opts: { connections: number, seconds: number, threads?: number }): Promise<WrkResult> {
  const threads = Math.min(opts.threads ?? 1, opts.connections)
  const out = await run('wrk', [
    '-t', String(threads), '-c', String(opts.connections), '-d', `${opts.seconds}s`,
    '--timeout', '5s', '-s', script, `http://127.0.0.1:${t.port}${t.path}`
  ], {
    env: {
      BENCH_METHOD: t.method,
      BENCH_PATH: t.path,
      BENCH_AUTH: t.auth,
      BENCH_COOKIE: t.cookieName ?? 'session',
      BENCH_LIST: t.listFile ?? ''
    }
  })
  const line = out.split('\n').find((l) => l.startsWith('BENCHJSON '))
  if (!line) throw new Error(`wrk printed no result:\n${out}`)
  const r = JSON.parse(line.slice('BENCHJSON '.length)) as Omit<WrkResult, 'rps'>
  return { ...r, rps: r.requests / (r.durationUs / 1e6) }
}
