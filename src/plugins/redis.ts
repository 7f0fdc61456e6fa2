import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Writable } from 'node:stream'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { Config } from '../config.js'
import { StoreUnavailable } from '../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis | Cluster
  }
}

const hostPorts = (list: string) => list.split(',').map((hp) => {
  const i = hp.lastIndexOf(':')
  return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) }
})

/**
 * One ioredis client for single node (REDIS_URL), Sentinel (REDIS_SENTINELS) or Cluster
 * (REDIS_CLUSTER_NODES). Every command is bounded: a hanging Redis surfaces as an error after
 * REDIS_COMMAND_TIMEOUT_MS, and commands are retried at most once across a reconnect, so
 * nothing queues forever (SPEC §8).
 */
export function createRedisClient (config: Config): Redis | Cluster {
  const common: RedisOptions = {
    commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(1000, config.REDIS_COMMAND_TIMEOUT_MS * 2),
    // Keep trying to reconnect forever, at most every 2 s: recovery needs no restart.
    retryStrategy: (times) => Math.min(times * 100, 2000),
    lazyConnect: false
  }
  if (config.REDIS_CLUSTER_NODES !== undefined) {
    const cluster = new Cluster(hostPorts(config.REDIS_CLUSTER_NODES), {
      redisOptions: { ...common, password: config.REDIS_PASSWORD },
      clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
      scaleReads: 'master'
    })
    boundClusterCommands(cluster, config.REDIS_COMMAND_TIMEOUT_MS)
    return cluster
  }
  if (config.REDIS_SENTINELS !== undefined) {
    return new Redis({
      ...common,
      sentinels: hostPorts(config.REDIS_SENTINELS),
      name: config.REDIS_SENTINEL_NAME,
      password: config.REDIS_PASSWORD,
      sentinelPassword: config.REDIS_PASSWORD
    })
  }
  return new Redis(config.REDIS_URL as string, common)
}

/**
 * Returns a wrapper for store calls: every failure (refused, timed out, cluster down, read-only
 * replica during failover) becomes StoreUnavailable (503, never 401), and the call fails after
 * `timeoutMs` however long it waited. ioredis times each command on its own, but one call may
 * be more than one command in a row (a script Redis does not hold yet is sent again after
 * NOSCRIPT), so without this bound a call could take two timeouts.
 */
export function storeCall (timeoutMs: number, client?: Redis | Cluster) {
  // Under concurrency the calls' commands are written in batches: fewer syscalls on both sides
  // (bench/findings.md). Only while other calls are waiting for Redis: a lone command goes out at
  // once, not a loop turn later (at one connection this took forward-auth's p50 from ~0.18 to
  // ~0.12 ms and ~50 µs of CPU off each request).
  // A cluster's node connections are left alone: its commands go out as they come.
  const batchWrites = client === undefined || client.isCluster ? undefined : corkedWrites(client as Redis)
  // Calls waiting for an answer, in the order they were made. All share one timeout, so the
  // oldest is always the first due and one timer serves them all: a timer per call cost about as
  // much as the GET it bounds.
  const waiting = new CallQueue()
  let timer: NodeJS.Timeout | undefined

  function expire () {
    timer = undefined
    const now = performance.now()
    for (let entry = waiting.oldest(); entry !== undefined; entry = waiting.oldest()) {
      if (entry.due > now) {
        timer = setTimeout(expire, entry.due - now)
        return
      }
      waiting.settle(entry)?.(new StoreUnavailable({ cause: new Error(`Redis did not answer within ${timeoutMs} ms`) }))
    }
  }

  // `batch`: fn issues several commands at once; they go out together in one write even when
  // nothing else is waiting. A plain flag: validate calls this with none, and an options object
  // would be one more allocation per request.
  return function call<T> (fn: () => Promise<T>, batch = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Waiting = { due: performance.now() + timeoutMs, reject }
      batchWrites?.(batch || waiting.size > 0)
      waiting.add(entry)
      timer ??= setTimeout(expire, timeoutMs)
      const fail = (err: unknown) => { waiting.settle(entry)?.(new StoreUnavailable({ cause: err })) }
      try {
        fn().then((value) => { if (waiting.settle(entry) !== undefined) resolve(value) }, fail)
      } catch (err) {
        fail(err)
      }
    })
  }
}

interface Waiting {
  due: number
  /** undefined once the call has settled: a settled entry holds nothing of its call */
  reject: ((err: unknown) => void) | undefined
}

/**
 * The calls waiting for Redis, oldest first: a plain array and a head index, not a Set.
 * A Set that is added to and deleted from on every request rehashes into a new table every few
 * dozen calls, and V8 links each old table to its successor (for live iterators). Once a full GC
 * had moved the table of the moment to the old generation, that dead table kept every later table,
 * and the entries, promises and Redis replies they held, alive through each scavenge, so ~500 B
 * of every request was promoted: a mark-compact every few seconds and 3–14% more CPU per request,
 * until the process ended (bench/findings.md). An array's old backing store links to nothing.
 */
class CallQueue {
  private items: (Waiting | undefined)[] = []
  private head = 0
  private unsettled = 0

  /** calls not yet settled */
  get size (): number { return this.unsettled }

  add (entry: Waiting): void {
    this.items.push(entry)
    this.unsettled++
  }

  /** The oldest call not yet settled. */
  oldest (): Waiting | undefined {
    this.dropSettled()
    return this.items[this.head]
  }

  /**
   * Marks a call settled and returns its reject, or undefined if it had settled already (answered,
   * failed or timed out): only the first outcome of a call counts.
   */
  settle (entry: Waiting): ((err: unknown) => void) | undefined {
    const reject = entry.reject
    if (reject === undefined) return undefined
    entry.reject = undefined
    this.unsettled--
    // Redis answers a connection's commands in order, so the oldest call is usually this one.
    this.dropSettled()
    return reject
  }

  private dropSettled (): void {
    const items = this.items
    while (this.head < items.length && items[this.head]!.reject === undefined) items[this.head++] = undefined
    if (this.head === items.length) {
      items.length = 0
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= items.length) {
      // Never empty under steady load: shed the settled front now and then.
      this.items = items.slice(this.head)
      this.head = 0
    }
  }
}

/**
 * `(on)`: whether the commands issued next should leave together with the others of this loop
 * turn. The client's socket is corked until the loop's check phase, so the commands of every
 * request handled in this turn leave in one writev. ioredis still writes each command as it comes,
 * without its auto-pipelining's per-command bookkeeping: against auto-pipelining, on a bare route,
 * this cost 6–15 µs less CPU per request and gave 3–15% more requests per second at 0.4–0.75× the
 * p99 (bench/findings.md; the bench's corked limit uses this same function).
 */
export function corkedWrites (redis: Redis): (on: boolean) => void {
  let corked: Writable | undefined
  const release = () => {
    const stream = corked
    corked = undefined
    stream?.uncork()
  }
  return (on) => {
    // Not ready: ioredis holds the command in its offline queue and writes it on connect.
    if (!on || corked !== undefined || redis.status !== 'ready') return
    corked = redis.stream
    corked.cork()
    setImmediate(release)
  }
}

/**
 * ioredis arms `commandTimeout` only on a node connection, so a command the Cluster client holds in
 * its own offline queue (cluster down, slots being refreshed) would wait without limit. Arming the
 * same timer when the Cluster accepts the command bounds the whole call, queue and redirections
 * included (Command.setTimeout is idempotent, so the node-level timer does not add to it).
 */
function boundClusterCommands (cluster: Cluster, timeoutMs: number) {
  type Cmd = { setTimeout?: (ms: number) => void }
  const sendCommand = cluster.sendCommand.bind(cluster) as (command: Cmd, ...rest: unknown[]) => unknown
  Object.assign(cluster, {
    sendCommand (command: Cmd, ...rest: unknown[]) {
      command.setTimeout?.(timeoutMs)
      return sendCommand(command, ...rest)
    }
  })
}

/**
 * A connection whose peer vanished without a FIN or RST (host powered off, network partition,
 * a middlebox dropping the flow) looks open for many minutes: every command times out, ioredis
 * never reconnects, and replies would stay out of step with commands. A PING every `intervalMs`
 * that times out twice in a row drops the connection so ioredis reconnects by itself.
 */
export function watchConnection (client: Redis, intervalMs: number, onStuck: () => void): () => void {
  let misses = 0
  let inFlight = false
  const timer = setInterval(() => {
    if (inFlight || client.status !== 'ready') return
    inFlight = true
    client.ping().then(() => { misses = 0 }, () => {
      if (++misses < 2) return
      misses = 0
      onStuck()
      client.disconnect(true)
    }).finally(() => { inFlight = false })
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

const STARTUP_WAIT_MS = 3000

/** Resolves when the client is ready or after `ms`, whichever comes first; never rejects. */
export async function readyWithin (client: Redis | Cluster, ms: number): Promise<void> {
  if (client.status === 'ready') return
  await new Promise<void>((resolve) => {
    const done = () => { clearTimeout(timer); client.off('ready', done); resolve() }
    const timer = setTimeout(done, ms)
    client.once('ready', done)
  })
}

/*
 * Not @fastify/redis: it holds the boot until Redis answers, while sessiond must start, report
 * not-ready on /health/ready and recover by itself when Redis comes (SPEC §8).
 */
async function redisPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const client = createRedisClient(config)
  let lastError = ''
  // Without a listener an unreachable Redis would crash the process; log each new failure once.
  client.on('error', (err: Error) => {
    if (err.message !== lastError) app.log.warn({ err }, 'redis error')
    lastError = err.message
  })
  client.on('ready', () => { lastError = '' })
  const watchIntervalMs = Math.max(1000, config.REDIS_COMMAND_TIMEOUT_MS * 2)
  const onStuck = () => app.log.warn('redis connection stopped answering; reconnecting')
  const watched = new Map<Redis, () => void>()
  if (client instanceof Cluster) {
    // Each node connection of the cluster gets its own watchdog, for as long as it is in the pool.
    client.on('+node', (node: Redis) => watched.set(node, watchConnection(node, watchIntervalMs, onStuck)))
    client.on('-node', (node: Redis) => { watched.get(node)?.(); watched.delete(node) })
  } else {
    watched.set(client, watchConnection(client, watchIntervalMs, onStuck))
  }
  app.decorate<Redis | Cluster>('redis', client)
  // Give the connection (for a cluster: the slot map) a moment before serving, so the first
  // requests are not spent waiting for it; a Redis that is down does not hold the start longer.
  await readyWithin(client, STARTUP_WAIT_MS)
  if (client.status !== 'ready') app.log.warn('redis not reachable at start; serving 503 until it is')
  app.addHook('onClose', async () => {
    for (const stop of watched.values()) stop()
    // QUIT lets in-flight replies arrive; against a dead Redis it could wait, so shutdown is bounded.
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, config.REDIS_COMMAND_TIMEOUT_MS * 2) })
    await Promise.race([client.quit().catch(() => {}), bound])
    clearTimeout(timer)
    client.disconnect()
  })
}

export default fp(redisPlugin, { name: 'redis' })
