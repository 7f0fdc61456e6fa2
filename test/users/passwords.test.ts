import { readdirSync, readFileSync } from 'node:fs'
import { getPriority } from 'node:os'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createPasswords } from '../../src/users/passwords.js'
import { build, DATABASE_URL, login, PASSWORD, REDIS_URL, register, RUN_PREFIX, uniqueEmail } from '../helper.js'
import { freePort, waitFor } from '../support/ports.js'
import { startProcess, stopProcess } from '../support/processes.js'

// The nice value of each of this process's threads (Linux: field 19 of /proc/<pid>/task/<tid>/stat).
function threadNices (): Map<number, number> {
  const out = new Map<number, number>()
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]))
    } catch {} // a thread that ended meanwhile
  }
  return out
}

const params = { memoryCost: 19456, timeCost: 2, parallelism: 1 }

t.test('hashing runs on HASH_CONCURRENCY threads scheduled HASH_NICE below request handling', { skip: process.platform !== 'linux' && 'per-thread nice values are a Linux feature' }, async (t) => {
  const base = getPriority()
  const app = await build(t, { HASH_CONCURRENCY: '3', HASH_NICE: '7' })
  const u = await register(app)
  t.equal((await login(app, u.email)).statusCode, 201, 'hash at registration, verify at login')
  const nices = threadNices()
  t.equal([...nices.values()].filter((n) => n === base + 7).length, 3, 'three threads at the lowered priority')
  t.equal(nices.get(process.pid), base, 'the event loop thread keeps its priority')
})

t.test('more logins at once than hashing threads: each waits its turn and none is refused', async (t) => {
  const app = await build(t, { HASH_CONCURRENCY: '1' })
  const u = await register(app)
  const wrong = await register(app)
  const answers = await Promise.all([
    ...Array.from({ length: 4 }, () => login(app, u.email)),
    login(app, wrong.email, 'not the password at all')
  ])
  t.same(answers.map((r) => r.statusCode), [201, 201, 201, 201, 401])
  t.equal(new Set(answers.slice(0, 4).map((r) => r.json().token)).size, 4, 'four different sessions')
})

t.test('a stored value that is not an argon2 hash verifies nothing and throws nothing', async (t) => {
  const passwords = createPasswords(params, { threads: 1, nice: 0 })
  t.equal(await passwords.verify('not-a-phc-string', PASSWORD), false)
  t.equal(await passwords.verify('$argon2id$v=19$m=19456,t=2,p=1$broken', PASSWORD), false)
  const stored = await passwords.hash(PASSWORD)
  t.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  t.equal(await passwords.verify(stored, PASSWORD), true)
  t.equal(await passwords.verify(stored, `${PASSWORD}!`), false)
  t.equal(await passwords.verify(null, PASSWORD), false, 'no stored hash (unknown email): false, after a dummy verification')
})

t.test('from source under tsx (as `npm run dev` runs it), the hashing threads load their code: register and log in', async (t) => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const port = await freePort()
  // `node --import tsx` rather than the tsx CLI, which runs the server in a grandchild: the same
  // loader, in one process to stop.
  const child = startProcess(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL, REDIS_URL, REDIS_KEY_PREFIX: RUN_PREFIX }
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  t.teardown(() => stopProcess(child, 'SIGKILL'))
  const base = `http://127.0.0.1:${port}`
  await waitFor(async () => (await fetch(`${base}/health/live`)).ok, 60_000, 'the server from source')
    .catch((err: Error) => { throw new Error(`${err.message}; its stderr: ${stderr}`) })
  const body = JSON.stringify({ email: uniqueEmail('dev'), password: PASSWORD })
  const post = async (path: string) => await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  t.equal((await post('/v1/users')).status, 201, 'registration (hash)')
  t.equal((await post('/v1/sessions')).status, 201, 'login (verify)')
})
