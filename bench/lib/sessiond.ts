// Driving the real sessiond: production build, migrations, a child process, and its public API.
import { randomBytes } from 'node:crypto'
import { run, start, waitForPort, type Proc } from './proc.js'

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'

export async function buildAndMigrate (cwd: string, databaseUrl: string): Promise<void> {
  await run('npm', ['run', 'build', '--silent'], { cwd })
  await run('npm', ['run', 'db:migrate', '--silent'], { cwd, env: { DATABASE_URL: databaseUrl } })
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

export async function login (port: number, email: string, password: string): Promise<string> {
  const r = await post(port, '/v1/sessions', { email, password })
  if (r.status !== 201) throw new Error(`POST /v1/sessions answered ${r.status}: ${JSON.stringify(r.json)}`)
  return r.json.token
}
