// Child processes for the benchmark: every server is started here, on loopback,
// and stopped by its own pid at the end (never by name).
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, readFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Proc {
  name: string
  pid: number
  child: ChildProcess
  output: () => string
  stop: () => Promise<void>
}

const running = new Set<Proc>()

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

export async function waitForPort (port: number, timeoutMs = 30_000, proc?: Proc): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited with ${proc.child.exitCode} before listening:\n${proc.output()}`)
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await sleep(100)
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms${proc ? `:\n${proc.output()}` : ''}`)
}

/** `logFile`: also write everything the process prints there (the proc keeps only its last 8 kB). */
export function start (name: string, cmd: string, args: string[], opts: { env?: Record<string, string>, cwd?: string, logFile?: string } = {}): Proc {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  if (child.pid === undefined) throw new Error(`could not start ${name}`)
  let out = ''
  const keep = (b: Buffer) => { out = (out + b.toString()).slice(-8000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  if (opts.logFile !== undefined) {
    const file = createWriteStream(opts.logFile)
    child.stdout?.pipe(file, { end: false })
    child.stderr?.pipe(file, { end: false })
    child.once('exit', () => file.end())
  }
  const proc: Proc = {
    name,
    pid: child.pid,
    child,
    output: () => out,
    stop: async () => {
      running.delete(proc)
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      process.kill(child.pid!, 'SIGTERM')
      const t = setTimeout(() => { try { process.kill(child.pid!, 'SIGKILL') } catch {} }, 5000)
      await exited
      clearTimeout(t)
    }
  }
  running.add(proc)
  return proc
}

export async function stopAll (): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()))
}

// Make sure nothing we started outlives us, even on Ctrl-C or a crash.
function killSync () {
  for (const p of running) {
    try { process.kill(p.pid, 'SIGKILL') } catch {}
  }
}
process.once('exit', killSync)
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => { killSync(); process.exit(130) })
}

export async function run (cmd: string, args: string[], opts: { env?: Record<string, string>, cwd?: string } = {}): Promise<string> {
  const p = start(`${cmd} ${args.join(' ')}`, cmd, args, opts)
  const code = await new Promise<number | null>((resolve) => p.child.once('exit', (c) => resolve(c)))
  running.delete(p)
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${p.output()}`)
  return p.output()
}

const CLK_TCK = 100 // getconf CLK_TCK on Linux

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds (pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / CLK_TCK // fields 14 and 15 of the full line
  } catch {
    return NaN
  }
}

const peers = fileURLToPath(new URL('../peers/', import.meta.url))
const root = fileURLToPath(new URL('../..', import.meta.url))

/** One of bench/peers/*.ts on `port`, in production mode, against the Redis at `redisUrl`; resolves once it listens. */
export async function startNodePeer (file: string, port: number, redisUrl: string, extra: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Proc> {
  const p = start(file, process.execPath, [...nodeArgs, '--import', 'tsx', join(peers, file)], {
    cwd: root, env: { PORT: String(port), REDIS_URL: redisUrl, NODE_ENV: 'production', ...extra }
  })
  await waitForPort(port, 30_000, p)
  return p
}
