// Driving the real sessiond: production build, migrations, a child process, and its public API.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, start, waitForPort, type Proc } from './proc.js'
import type { Target } from './wrk.js'

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'

export async function buildAndMigrate (cwd: string, databaseUrl: string): Promise<void> {
  await run('npm', ['run', 'build', '--silent'], { cwd })
  await run('npm', ['run', 'db:migrate', '--silent'], { cwd, env: { DATABASE_URL: databaseUrl } })
}

/**
 * The directory to run a sessiond build from: `root` itself, or for `ref` (any commit) a worktree
 * under the temp dir, sharing root's node_modules, built once.
 */
export function checkout (root: string, ref: string | undefined): string {
  if (ref === undefined) return root
  const sha = execFileSync('git', ['-C', root, 'rev-parse', '--short', ref]).toString().trim()
  const dir = join(tmpdir(), `sessiond-ab-${sha}`)
  if (!existsSync(join(dir, 'dist', 'server.js'))) {
    if (!existsSync(dir)) execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', dir, sha], { stdio: 'ignore' })
    if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' })
  }
  return dir
}

export async function startSessiond (opts: {
  cwd: string
  port: number
  redisUrl: string
  databaseUrl: string
  name?: string
  env?: Record<string, string>
  /** node flags before the script (--trace-gc, --cpu-prof, ...) */
  nodeArgs?: string[]
  /** also write the server's output here */
  logFile?: string
}): Promise<Proc> {
  const proc = start(opts.name ?? 'sessiond', process.execPath, [...opts.nodeArgs ?? [], 'dist/server.js'], {
    cwd: opts.cwd,
    logFile: opts.logFile,
    env: {
      DATABASE_URL: opts.databaseUrl,
      REDIS_URL: opts.redisUrl,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      PORT: String(opts.port),
      COOKIE_SECURE: 'false',
      REDIS_KEY_PREFIX: 'bench:',
      // the bench registers all its users from one address
      REGISTRATION_PER_IP: '0',
      ...opts.env
    }
  })
  await waitForPort(opts.port, 30_000, proc)
  return proc
}

export interface Login { token: string, user: { id: string, email: string, name: string, roles: string[] }, email: string, password: string }

async function post (port: number, path: string, body: unknown): Promise<{ status: number, json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
  })
  const text = await res.text()
  let json: any = null
  try { json = JSON.parse(text) } catch {}
  return { status: res.status, json: json ?? text }
}

export async function register (port: number, name = 'Bench User'): Promise<Login> {
  const email = `bench-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}@example.com`
  const password = `bench-Pass-${randomBytes(9).toString('base64url')}`
  const r = await post(port, '/v1/users', { email, password, name })
  if (r.status !== 201) throw new Error(`POST /v1/users answered ${r.status}: ${JSON.stringify(r.json)}`)
  return { token: r.json.token, user: r.json.user, email, password }
}

/**
 * Registers up to `count` users and returns them with the wrk target that logs in as them in turn
 * (their credentials in `listFile`). A sessiond that refuses registrations part-way (one started
 * without the bench's settings) leaves fewer users; `onStop` hears why.
 */
export async function loginUsers (port: number, count: number, listFile: string, onStop?: (reason: string) => void): Promise<{ users: Login[], target: Target }> {
  const users: Login[] = []
  for (let i = 0; i < count; i++) {
    try {
      users.push(await register(port, `Login User ${i}`))
    } catch (err) {
      if (users.length === 0) throw err
      onStop?.(`registration stopped after ${users.length} users: ${(err as Error).message}`)
      break
    }
  }
  writeFileSync(listFile, users.map((u) => `${u.email}\t${u.password}`).join('\n') + '\n')
  return { users, target: { port, method: 'POST', path: '/v1/sessions', auth: 'login', listFile } }
}

export async function login (port: number, email: string, password: string): Promise<string> {
  const r = await post(port, '/v1/sessions', { email, password })
  if (r.status !== 201) throw new Error(`POST /v1/sessions answered ${r.status}: ${JSON.stringify(r.json)}`)
  return r.json.token
}
