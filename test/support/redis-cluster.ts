import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const script = new URL('../../scripts/redis-cluster.sh', import.meta.url).pathname

/**
 * A 3-master Redis Cluster on loopback for one test file, through scripts/redis-cluster.sh (the
 * same script CI uses). Its own temp dir and ports (a random base, so parallel files do not meet; node and bus
 * ports stay below the kernel's ephemeral range, where an outgoing connection could hold them);
 * stopped by pid at teardown. Returns the seed list for REDIS_CLUSTER_NODES.
 */
export async function startRedisCluster (t: { teardown(fn: () => unknown): void }): Promise<string> {
  return (await startRedisClusterWithPids(t)).nodes
}

/** Same, also returning the pid of each node (for SIGSTOP/SIGCONT). */
export async function startRedisClusterWithPids (t: { teardown(fn: () => unknown): void }) {
  const parent = mkdtempSync(join(tmpdir(), 'sessiond-cluster-'))
  const dir = join(parent, 'nodes')
  const env = { ...process.env, REDIS_CLUSTER_BASE_PORT: String(11000 + Math.floor(Math.random() * 4000)) }
  t.teardown(async () => {
    await run(script, ['stop', dir])
    rmSync(parent, { recursive: true, force: true })
  })
  const { stdout } = await run(script, ['start', dir], { env })
  const nodes = stdout.trim()
  const pids = nodes.split(',').map((hp) => Number(readFileSync(join(dir, hp.split(':')[1] as string, 'redis.pid'), 'utf8')))
  return { nodes, pids }
}
