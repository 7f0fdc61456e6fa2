import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort, waitFor } from './ports.js'
import { startProcess, stopProcess } from './processes.js'

export async function redisAnswers (port: number): Promise<boolean> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500, commandTimeout: 500 })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

/**
 * A private redis-server on a free loopback port, in its own temp dir, for tests that break
 * Redis on purpose (the shared one on 6379 is never touched). Stopped by pid at teardown.
 */
export async function startRedisServer (t: { teardown(fn: () => unknown): void }, extraArgs: string[] = [], fixedPort?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sessiond-redis-'))
  const port = fixedPort ?? await freePort()
  let child: ChildProcess
  const spawnIt = async () => {
    child = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--dir', dir, '--dbfilename', 'dump.rdb', '--daemonize', 'no', ...extraArgs])
    await waitFor(() => redisAnswers(port), 10_000, `redis-server on ${port}`)
  }
  await spawnIt()

  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid () { return child.pid as number },
    /** Freezes the server: connections stay open, nothing answers (a hung Redis). */
    pause () { process.kill(child.pid as number, 'SIGSTOP') },
    resume () { process.kill(child.pid as number, 'SIGCONT') },
    /** Saves the dataset and exits (connections are refused from now on). */
    async shutdown () {
      const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null })
      client.on('error', () => {})
      await client.connect()
      await client.call('SHUTDOWN', 'SAVE').catch(() => {})
      client.disconnect()
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve()
        else child.once('exit', () => resolve())
      })
    },
    /** Starts the server again on the same port, loading what shutdown() saved. */
    async start () { await spawnIt() },
    async kill () { await stopProcess(child, 'SIGKILL') },
    async stop () {
      await stopProcess(child, 'SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    }
  }
  t.teardown(() => server.stop())
  return server
}

export type RedisServer = Awaited<ReturnType<typeof startRedisServer>>

/** Config overrides pointing sessiond at one Redis URL (whatever topology the run uses otherwise). */
export const redisAt = (url: string) => ({ REDIS_URL: url, REDIS_CLUSTER_NODES: undefined, REDIS_SENTINELS: undefined })
