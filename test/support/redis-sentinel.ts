import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort, waitFor } from './ports.js'
import { startProcess, stopProcess } from './processes.js'
import { redisAnswers } from './redis-server.js'

async function query<T> (port: number, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    return await fn(client)
  } finally {
    client.disconnect()
  }
}

/**
 * Redis Sentinel on loopback: a master, one replica and three sentinels (quorum 2), each with a
 * writable conf in its own temp dir (Sentinel rewrites it; Debian ships no redis-sentinel binary,
 * so `redis-server sentinel.conf --sentinel`). Every process is stopped by pid at teardown.
 */
export async function startSentinelSetup (t: { teardown(fn: () => unknown): void }, name = 'mymaster') {
  const dir = mkdtempSync(join(tmpdir(), 'sessiond-sentinel-'))
  const children: ChildProcess[] = []
  t.teardown(async () => {
    for (const child of children) await stopProcess(child, 'SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  })
  const redisArgs = (port: number) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--dbfilename', `dump-${port}.rdb`, '--daemonize', 'no']

  const masterPort = await freePort()
  const master = startProcess('redis-server', redisArgs(masterPort))
  children.push(master)
  await waitFor(() => redisAnswers(masterPort), 10_000, 'master')

  const replicaPort = await freePort()
  const replica = startProcess('redis-server', [...redisArgs(replicaPort), '--replicaof', '127.0.0.1', String(masterPort)])
  children.push(replica)
  await waitFor(() => query(replicaPort, async (c) => (await c.info('replication')).includes('master_link_status:up')), 10_000, 'replica in sync')

  const sentinelPorts: number[] = []
  for (let i = 0; i < 3; i++) {
    const port = await freePort()
    const conf = join(dir, `sentinel-${port}.conf`)
    writeFileSync(conf, [
      `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`, ''
    ].join('\n'))
    children.push(startProcess('redis-server', [conf, '--sentinel']))
    sentinelPorts.push(port)
  }
  // Ready when every sentinel has discovered the replica and the two other sentinels.
  for (const port of sentinelPorts) {
    await waitFor(() => query(port, async (c) => {
      const replicas = await c.call('SENTINEL', 'REPLICAS', name) as unknown[]
      const sentinels = await c.call('SENTINEL', 'SENTINELS', name) as unknown[]
      return replicas.length >= 1 && sentinels.length >= 2
    }), 20_000, `sentinel ${port} to discover its peers`)
  }

  return {
    name,
    masterPort,
    replicaPort,
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    /** Kills the master outright (no chance to hand over). */
    async killMaster () { await stopProcess(master, 'SIGKILL') },
    /** The port the sentinels currently name as master. */
    async currentMasterPort (): Promise<number> {
      const [, port] = await query(sentinelPorts[0] as number, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name) as Promise<[string, string]>)
      return Number(port)
    }
  }
}
