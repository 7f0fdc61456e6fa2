import { availableParallelism } from 'node:os'
import { randomBytes } from 'node:crypto'
import { hash, verify, type Algorithm } from '@node-rs/argon2'
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

// ~49,000 most common passwords, frequency-ordered, shipped inside the package: no network call.
const COMMON = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()))

/**
 * Caps how many hashes run at once. argon2 runs on the libuv pool, which request handling also
 * needs; beyond one per core more concurrency only adds latency (measured ~125/s on 2 cores).
 */
function limiter (max: number) {
  let active = 0
  const waiting: Array<() => void> = []
  return async function run<T> (fn: () => Promise<T>): Promise<T> {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve))
    active++
    try {
      return await fn()
    } finally {
      active--
      waiting.shift()?.()
    }
  }
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/

export function createPasswords (params: PasswordParams, concurrency = 0): Passwords {
  // Default: one core fewer than the machine has, so a login storm leaves a core for validate
  // (measured on 2 cores: validate p99 during a storm 3x idle at 2, 1.3x at 1; logins/s 158 → 143).
  const run = limiter(concurrency > 0 ? concurrency : Math.max(1, availableParallelism() - 1))
  // Algorithm.Argon2id (a const enum, which isolatedModules cannot inline)
  const options = { algorithm: 2 as Algorithm, ...params }
  let dummy: Promise<string> | undefined

  return {
    async hash (password) {
      return await run(() => hash(password, options))
    },

    async verify (stored, password) {
      // Unknown emails still pay for one verification, so response time does not reveal who is registered.
      dummy ??= hash(randomBytes(16).toString('hex'), options)
      const target = stored ?? await dummy
      const ok = await run(() => verify(target, password).catch(() => false))
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
