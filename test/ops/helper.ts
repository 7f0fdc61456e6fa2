import { createServer } from 'node:net'

/** A loopback port nothing listens on: bound by the OS, then released. */
export async function closedPort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Collects pino's output lines in memory (pass it as the logger stream). */
export function captureStream () {
  const lines: string[] = []
  return {
    lines,
    write (line: string) { lines.push(line) },
    text: () => lines.join(''),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  }
}
