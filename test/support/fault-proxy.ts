import { connect, createServer, type Socket } from 'node:net'

export type FaultMode = 'pass' | 'reset' | 'blackhole' | 'latency'

/**
 * A TCP proxy on 127.0.0.1 to put between sessiond and a Redis or PostgreSQL, to break the
 * connection on purpose (there is no toxiproxy here):
 * - pass: forwards bytes both ways;
 * - reset: resets every open connection and every new one (like a crashed peer / firewall RST);
 * - blackhole: keeps connections open but forwards nothing (like a hung host or a dropped route);
 * - latency: forwards with `latencyMs` added to each chunk, both ways.
 */
export async function startFaultProxy (target: { host?: string, port: number }) {
  let mode: FaultMode = 'pass'
  let latencyMs = 0
  const pairs = new Set<{ client: Socket, upstream: Socket }>()

  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => {
      if (mode === 'blackhole') return
      if (mode === 'latency') setTimeout(() => { if (!to.destroyed) to.write(chunk) }, latencyMs)
      else if (!to.destroyed) to.write(chunk)
    })
  }

  const server = createServer((client) => {
    if (mode === 'reset') {
      client.resetAndDestroy()
      return
    }
    const upstream = connect(target.port, target.host ?? '127.0.0.1')
    const pair = { client, upstream }
    pairs.add(pair)
    const end = () => {
      pairs.delete(pair)
      if (!client.destroyed) client.destroy()
      if (!upstream.destroyed) upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    forward(client, upstream)
    forward(upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0

  return {
    port,
    get mode () { return mode },
    set (next: FaultMode, options: { latencyMs?: number } = {}) {
      mode = next
      latencyMs = options.latencyMs ?? latencyMs
      if (next === 'reset') {
        for (const { client, upstream } of pairs) {
          client.resetAndDestroy()
          upstream.destroy()
        }
        pairs.clear()
      }
    },
    /** Open client connections through the proxy. */
    get connections () { return pairs.size },
    async close () {
      for (const { client, upstream } of pairs) { client.destroy(); upstream.destroy() }
      pairs.clear()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

export type FaultProxy = Awaited<ReturnType<typeof startFaultProxy>>
