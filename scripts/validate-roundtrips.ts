// How many Redis round trips and commands does one validate cost? Starts a private redis-server
// (so no other client pollutes INFO commandstats), runs 1,000 validates through the real HTTP
// stack (inject), and prints the commandstats deltas. Usage: npx tsx scripts/validate-roundtrips.ts
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const N = 1000
const port = 20000 + Math.floor(Math.random() * 20000)
const dir = mkdtempSync(join(tmpdir(), 'sessiond-rt-'))
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
// ioredis retries the connection by itself while redis-server starts; the PING waits in its queue.
const admin = new Redis({ port, retryStrategy: (n) => (n > 50 ? null : 100) })
admin.on('error', () => {}) // connection errors while redis-server starts and stops are expected
try {
  await admin.ping()
  const app = await buildApp(loadConfig({
    LOG_LEVEL: 'silent',
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    REDIS_URL: `redis://127.0.0.1:${port}`
  }))
  const email = `rt-${Date.now()}@example.test`
  const reg = await app.inject({ method: 'POST', url: '/v1/users', payload: { email, password: 'roundtrip measure pw' } })
  const token = reg.json().token as string
  await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } }) // slides it once (EVALSHA)

  const stats = async () => Object.fromEntries((await admin.info('commandstats')).split('\n')
    .map((l) => /^cmdstat_(\w+):calls=(\d+)/.exec(l)).filter((m) => m !== null).map((m) => [m[1], Number(m[2])]))
  const before = await stats()
  for (let i = 0; i < N; i++) {
    const res = await app.inject({ method: 'POST', url: '/v1/sessions/validate', payload: { token } })
    if (res.statusCode !== 200) throw new Error(`validate ${res.statusCode}`)
  }
  const after = await stats()
  const delta = Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]).filter(([k, v]) => v !== 0 && k !== 'info'))
  console.log(`commandstats delta over ${N} validates (private redis on :${port}):`)
  for (const [cmd, calls] of Object.entries(delta)) console.log(`  ${cmd}: ${calls} (${(Number(calls) / N).toFixed(3)} per validate)`)
  console.log('client round trips per validate = GET + EVALSHA calls per validate (GET inside the throttle window,')
  console.log('EVALSHA when a slide may be due); commands other than those two run inside the script')
  await app.close()
} finally {
  admin.disconnect()
  server.kill()
}
