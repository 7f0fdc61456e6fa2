/*
 * Runs examples/nginx.conf in a real nginx from a temporary prefix: daemon off, pid, logs and temp
 * paths inside the prefix, loopback ports templated in; nothing under /etc/nginx is touched.
 * Used by nginx.test.ts and scripts/forward-auth-bench.ts. Stops only the nginx it started, by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../support/ports.js'
import { canConnect, findBinary, replaceOnce } from './gateway.js'

export const EXAMPLE = new URL('../../examples/nginx.conf', import.meta.url)

/** The nginx binary (NGINX_BIN, else PATH and the usual sbin folders), or null when there is none. */
export function findNginx (): string | null {
  const explicit = process.env.NGINX_BIN
  if (explicit !== undefined && explicit !== '') {
    try {
      accessSync(explicit, constants.X_OK)
      return explicit
    } catch {
      return null
    }
  }
  return findBinary('nginx', ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'])
}

export { freePort }

const edit = (conf: string, search: string, replacement: string) => replaceOnce(conf, search, replacement, 'examples/nginx.conf')

/** examples/nginx.conf with the test's ports, and every file nginx writes kept inside `prefix`. */
export function renderConfig (prefix: string, ports: { nginx: number, sessiond: number, app: number }, workers = 1, extra = ''): string {
  let conf = readFileSync(EXAMPLE, 'utf8')
  conf = edit(conf, 'server 127.0.0.1:3000;', `server 127.0.0.1:${ports.sessiond};`)
  conf = edit(conf, 'server 127.0.0.1:8080;', `server 127.0.0.1:${ports.app};`)
  conf = edit(conf, 'listen 80;', `listen 127.0.0.1:${ports.nginx};`)
  conf = edit(conf, 'worker_processes auto;', `worker_processes ${workers};`)
  if (extra !== '') conf = edit(conf, 'server_name _;', `server_name _;\n${extra}`)
  conf = edit(conf, 'http {', [
    'http {',
    `  access_log ${prefix}/logs/access.log;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${prefix}/temp/${t};`)
  ].join('\n'))
  return `daemon off;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/logs/error.log warn;\n${conf}`
}

export interface RunningNginx {
  port: number
  prefix: string
  process: ChildProcess
  stop(): Promise<void>
}

/** Starts nginx on a free loopback port with examples/nginx.conf; resolves once it accepts connections. */
export async function startNginx (binary: string, ports: { sessiond: number, app: number }, workers = 1, extra = ''): Promise<RunningNginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'sessiond-nginx-'))
  // Workers run as an unprivileged user when nginx starts as root: let them reach the temp paths.
  chmodSync(prefix, 0o755)
  for (const dir of ['conf', 'logs', 'temp']) mkdirSync(join(prefix, dir))
  const port = await freePort()
  writeFileSync(join(prefix, 'conf/nginx.conf'), renderConfig(prefix, { nginx: port, ...ports }, workers, extra))

  const child = spawn(binary, ['-p', `${prefix}/`, '-c', 'conf/nginx.conf', '-e', `${prefix}/logs/error.log`], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d) => { stderr += String(d) })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGQUIT') // graceful: finish open requests, then exit
      const timer = setTimeout(() => { if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL') }, 5000)
      await exited
      clearTimeout(timer)
    }
    rmSync(prefix, { recursive: true, force: true })
  }

  const deadline = Date.now() + 10_000
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      let log = ''
      try { log = readFileSync(join(prefix, 'logs/error.log'), 'utf8') } catch {}
      await stop()
      throw new Error(`nginx did not start: ${stderr}${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { port, prefix, process: child, stop }
}

export interface Reply { status: number, headers: IncomingHttpHeaders, body: string }

/** One plain HTTP/1.1 request (no cookie jar, no redirects followed, no connection reuse). */
export async function send (port: number, path: string, options: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<Reply> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}
