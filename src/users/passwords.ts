import { availableParallelism } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { Algorithm } from '@node-rs/argon2'
import { Piscina } from 'piscina'
import { dictionary } from '@zxcvbn-ts/language-common'

export interface PasswordParams {
  memoryCost: number
  timeCost: number
  parallelism: number
}

export interface Passwords {
  hash(password: string): Promise<string>
  /** Verifies against the stored hash, or against a dummy hash when there is none (unknown email). */
  verify(stored: string | null, password: string): Promise<boolean>
  needsRehash(stored: string): boolean
  isCommon(password: string): boolean
}

export interface HashPool {
  /** threads hashing at once (0 = one per CPU core, at most DEFAULT_MAX_THREADS) */
  threads: number
  /** added to the threads' nice value (0–19): how far below request handling hashing runs */
  nice: number
}

// ~49,000 most common passwords, frequency-ordered, shipped inside the package: no network call.
const COMMON = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()))

// Each thread holds a V8 isolate and, while hashing, argon2's memory (19 MiB by default). Node
// counts the host's cores, not a container's CPU quota, so the default stops at 8.
const DEFAULT_MAX_THREADS = 8

// One pool per process and setting: the threads are the machine's cores, however many apps a
// process builds (tests build hundreds). Idle threads do not keep the process alive.
const pools = new Map<string, Piscina>()
function workerPool (threads: number, nice: number): Piscina {
  const key = `${threads}/${nice}`
  let pool = pools.get(key)
  if (!pool) {
    pool = new Piscina({
      filename: new URL('./hash-worker.js', import.meta.url).href,
      // Plain JavaScript: no loader (tsx, tap's TypeScript hooks) to start in every thread.
      execArgv: [],
      minThreads: threads,
      maxThreads: threads,
      // Each thread holds its next hash while it runs one, and starts it the moment it is done,
      // instead of idling until the event loop, busy with requests, hands it the next. Logins at
      // 8 connections went from 75–88/s to 82–95/s beside raw argon2's 95–101/s in five
      // interleaved cycles (bench/findings.md). Tasks are alike, so binding one early costs nothing.
      concurrentTasksPerWorker: 2,
      niceIncrement: nice
    })
    pools.set(key, pool)
  }
  return pool
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/

export function createPasswords (params: PasswordParams, pool: HashPool = { threads: 0, nice: 0 }): Passwords {
  // argon2 runs in its own worker threads, not on libuv's pool, which request handling shares
  // (DNS, files). With nice > 0 Linux schedules those threads below the event loop, so a login
  // storm takes only the CPU that validate leaves: every core hashes while the service is
  // otherwise idle, and validate keeps its latency under a storm. Started at the first hash.
  const threads = pool.threads > 0 ? pool.threads : Math.min(availableParallelism(), DEFAULT_MAX_THREADS)
  const run = <T>(name: 'hash' | 'verify', task: object): Promise<T> =>
    workerPool(threads, pool.nice).run(task, { name }) as Promise<T>
  // Algorithm.Argon2id (a const enum, which isolatedModules cannot inline)
  const options = { algorithm: 2 as Algorithm, ...params }
  let dummy: Promise<string> | undefined

  return {
    async hash (password) {
      return await run<string>('hash', { password, options })
    },

    async verify (stored, password) {
      // Unknown emails still pay for one verification, so response time does not reveal who is registered.
      // (made once; a failed attempt, such as a hashing thread that died, is not kept)
      dummy ??= run<string>('hash', { password: randomBytes(16).toString('hex'), options })
        .catch((err: unknown) => { dummy = undefined; throw err })
      const target = stored ?? await dummy
      const ok = await run<boolean>('verify', { stored: target, password })
      return stored !== null && ok
    },

    needsRehash (stored) {
      const m = PHC.exec(stored)
      if (!m) return true
      return Number(m[1]) < params.memoryCost || Number(m[2]) < params.timeCost || Number(m[3]) < params.parallelism
    },

    isCommon (password) {
      return COMMON.has(password.toLowerCase())
    }
  }
}
