import { execFile } from 'node:child_process'
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { freePort, waitFor } from './ports.js'

const run = promisify(execFile)
const BIN = '/usr/lib/postgresql/15/bin'

async function answers (port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1000 })
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * A throwaway PostgreSQL (initdb + pg_ctl as the postgres user) on its own loopback port and data
 * dir, for tests that break the database (the shared one on 5432 is never touched). The
 * postmaster is stopped by its pid at teardown.
 */
export async function startPostgres (t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'sessiond-pg-'))
  const { stdout: ids } = await run('id', ['-u', 'postgres'])
  const { stdout: gids } = await run('id', ['-g', 'postgres'])
  chownSync(dir, Number(ids), Number(gids))
  const data = join(dir, 'data')
  const port = await freePort()
  const asPostgres = (cmd: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args])
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  const pidOf = () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
  let pid = 0

  const start = async () => {
    await asPostgres('pg_ctl', ['-D', data, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start'])
    pid = pidOf()
    await waitFor(() => answers(port), 15_000, `postgres on ${port}`)
  }
  const stop = async (signal: NodeJS.Signals) => {
    if (pid === 0) return
    try { process.kill(pid, signal) } catch { pid = 0; return }
    await waitFor(() => { try { process.kill(pid, 0); return false } catch { return true } }, 15_000, 'postgres to exit')
    pid = 0
  }
  await start()
  t.teardown(async () => {
    await stop('SIGQUIT')
    rmSync(dir, { recursive: true, force: true })
  })

  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    /** Immediate shutdown (SIGQUIT to the postmaster): connections drop, new ones are refused. */
    async crash () { await stop('SIGQUIT') },
    async start () { await start() }
  }
}
