// A private redis-server per benchmark run (never the shared one on 6379),
// plus the INFO parsing the report needs.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { start, freePort, waitForPort, type Proc } from './proc.js'

export interface BenchRedis {
  port: number
  url: string
  proc: Proc
  admin: Redis
  stop: () => Promise<void>
}

export async function startRedis (name: string): Promise<BenchRedis> {
  const port = await freePort()
  if (port === 6379) throw new Error('refusing to use the shared redis port')
  const dir = mkdtempSync(join(tmpdir(), `bench-redis-${name}-`))
  const proc = start(`redis-server:${name}`, 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'
  ])
  await waitForPort(port, 10_000, proc)
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 })
  admin.on('error', () => {}) // a stopped server is not worth a stack trace per retry
  proc.child.once('exit', () => admin.disconnect())
  await admin.connect()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    proc,
    admin,
    stop: async () => {
      admin.disconnect()
      await proc.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

function parseInfo (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':')
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1)
  }
  return out
}

/** Calls per command since the last CONFIG RESETSTAT, without the harness's own INFO/CONFIG. */
export async function commandStats (r: Redis): Promise<Record<string, number>> {
  const info = parseInfo(await r.info('commandstats'))
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(info)) {
    const m = /^cmdstat_(.+)$/.exec(k)
    const calls = /calls=(\d+)/.exec(v)
    if (!m || !calls) continue
    const cmd = m[1]!
    if (cmd === 'info' || cmd === 'config' || cmd.startsWith('config|')) continue
    out[cmd] = Number(calls[1])
  }
  return out
}

export async function usedMemory (r: Redis): Promise<number> {
  return Number(parseInfo(await r.info('memory')).used_memory)
}
