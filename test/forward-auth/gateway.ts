/*
 * What the real-gateway tests (nginx, Caddy) share: finding the binary, templating the example
 * config, waiting for the port, and an upstream that records and echoes the headers it receives.
 */
import { accessSync, constants } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { delimiter, join } from 'node:path'
import type { Test } from 'tap'

/** An executable `name` on PATH or in `extraDirs`, or null when there is none. */
export function findBinary (name: string, extraDirs: string[] = []): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extraDirs]) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return null
}

/** Replaces the one occurrence of `search` in the example `file`: the example and the test must not drift apart silently. */
export function replaceOnce (text: string, search: string, replacement: string, file: string): string {
  const at = text.indexOf(search)
  if (at === -1 || text.indexOf(search, at + 1) !== -1) throw new Error(`${file}: expected exactly one "${search}"`)
  return text.slice(0, at) + replacement + text.slice(at + search.length)
}

export async function canConnect (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/** The upstream behind the gateway: records the headers of each request that reached it and echoes them back as JSON. */
export async function echoUpstream (t: Test): Promise<{ port: number, seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = []
  const upstream = createServer((req, res) => {
    seen.push(req.headers)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }))
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { upstream.closeAllConnections(); upstream.close(() => resolve()) }))
  return { port: (upstream.address() as AddressInfo).port, seen }
}
