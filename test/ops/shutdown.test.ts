import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { connect, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { DATABASE_URL, PASSWORD, REDIS_URL, RUN_PREFIX, uniqueEmail } from '../helper.js'
import { closedPort } from './helper.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
// tsc takes ~15 s on an idle 2-core machine and over a minute on a busy one: more than .taprc's 120 s budget allows for.
t.setTimeout(300_000)

// The test runs what the container runs: the compiled server. Building here (not in a pretest
// script) keeps `tap test/ops/shutdown.test.ts` honest about the current source too.
t.before(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
})

/** Starts `node dist/server.js` in production mode on a free port; resolves once it listens. */
async function startServer (t: Test, overrides: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      DATABASE_URL,
      REDIS_URL,
      REDIS_KEY_PREFIX: RUN_PREFIX,
      ...overrides
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const records: Array<Record<string, unknown>> = []
  const waiters: Array<{ test: (r: Record<string, unknown>) => boolean, resolve: (r: Record<string, unknown>) => void }> = []
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  let buffered = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffered += d
    let nl
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      let r: Record<string, unknown>
      try { r = JSON.parse(line) } catch { continue }
      records.push(r)
      for (const w of waiters.filter((w) => w.test(r))) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(r)
      }
    }
  })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  /** Resolves with the first log record matching; rejects if the process exits first. */
  const waitFor = (test: (r: Record<string, unknown>) => boolean) => {
    const seen = records.find(test)
    if (seen) return Promise.resolve(seen)
    return Promise.race([
      new Promise<Record<string, unknown>>((resolve) => waiters.push({ test, resolve })),
      exited.then(([code]) => { throw new Error(`server exited (${code}) first: ${stderr}`) })
    ])
  }
  const listening = await waitFor((r) => typeof r.msg === 'string' && r.msg.startsWith('Server listening at'))
  const port = Number(/:(\d+)$/.exec(String(listening.msg))?.[1])
  return { child, port, records, waitFor, exited, stderr: () => stderr }
}

/** Reads from a raw socket until the data seen so far matches `until` (the socket stays open). */
async function readUntil (socket: Socket, until: RegExp): Promise<string> {
  return await new Promise((resolve, reject) => {
    let data = ''
    const onData = (chunk: Buffer) => {
      data += String(chunk)
      if (until.test(data)) done(null)
    }
    const onEnd = () => done(new Error(`connection ended after: ${data}`))
    const done = (err: Error | null) => {
      socket.off('data', onData).off('end', onEnd).off('error', done)
      if (err) reject(err)
      else resolve(data)
    }
    socket.on('data', onData).on('end', onEnd).on('error', done)
  })
}

t.test('SIGTERM during an in-flight login: the login completes with 201, then exit 0', async (t) => {
  const server = await startServer(t)
  const base = `http://127.0.0.1:${server.port}`
  const email = uniqueEmail('shutdown')
  const reg = await fetch(`${base}/v1/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD })
  })
  t.equal(reg.status, 201)

  // A login whose body is held back: `Expect: 100-continue` makes the server answer
  // "100 Continue" once the request is in Fastify's hands, so we know it is in flight.
  const body = JSON.stringify({ email, password: PASSWORD })
  const socket = connect(server.port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`)
  const cont = await readUntil(socket, /\r\n\r\n/)
  t.match(cont, /^HTTP\/1\.1 100 Continue/)

  server.child.kill('SIGTERM')
  await server.waitFor((r) => r.msg === 'closing' && r.signal === 'SIGTERM')

  // No new connections once closing (refused, or 503 if one slipped in before the listener closed).
  let refused = false
  for (let i = 0; i < 100 && !refused; i++) {
    try {
      const res = await fetch(`${base}/health/live`)
      t.equal(res.status, 503, 'a request that slips in while closing gets 503')
    } catch {
      refused = true
    }
  }
  t.ok(refused, 'new connections are refused')

  socket.write(body)
  const response = await readUntil(socket, /\r\n\r\n[\s\S]*\}$/)
  t.match(response, /^HTTP\/1\.1 201 Created/, 'the in-flight login completes')
  t.match(response, /"token":"/)
  socket.end()

  const [code, signal] = await server.exited
  t.equal(code, 0, 'exit code 0')
  t.equal(signal, null)
  t.equal(server.stderr(), '', 'nothing on stderr')
  const completed = server.records.filter((r) => r.msg === 'request completed' && r.route === '/v1/sessions')
  t.match(completed, [{ statusCode: 201 }], 'the login was logged as completed')
})

t.test('SIGINT with nothing in flight: exit 0 promptly', async (t) => {
  const server = await startServer(t)
  t.equal((await fetch(`http://127.0.0.1:${server.port}/health/ready`)).status, 200)
  server.child.kill('SIGINT')
  const [code] = await server.exited
  t.equal(code, 0)
})

t.test('SIGTERM while Redis and Postgres are unreachable: still exit 0 (closing does not wait on them)', async (t) => {
  const server = await startServer(t, {
    REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
    DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/test`,
    MIGRATE_ON_START: 'false'
  })
  t.equal((await fetch(`http://127.0.0.1:${server.port}/health/ready`)).status, 503)
  server.child.kill('SIGTERM')
  const [code] = await server.exited
  t.equal(code, 0)
})
