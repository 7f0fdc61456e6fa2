// Raw @node-rs/argon2 verify throughput on all cores, as a child process so it has the
// machine to itself. Prints one JSON line: the best rate over a few concurrency levels.
import { availableParallelism } from 'node:os'
import { hash, verify } from '@node-rs/argon2'

const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const params = {
  algorithm: 2, // Algorithm.Argon2id (a const enum, not importable under verbatimModuleSyntax)
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1
}
const password = 'bench-Pass-argon2-raw'
const phc = await hash(password, params)
const cores = availableParallelism()

async function rate (concurrency: number): Promise<number> {
  let done = 0
  const end = Date.now() + seconds * 1000
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      if (!(await verify(phc, password))) throw new Error('verify failed')
      done++
    }
  }))
  return done / ((performance.now() - t0) / 1000)
}

await rate(cores) // warm-up
const byConcurrency: Record<number, number> = {}
for (const c of new Set([cores, cores * 2, 8])) byConcurrency[c] = await rate(c)
const best = Math.max(...Object.values(byConcurrency))
console.log(JSON.stringify({ cores, params, seconds, byConcurrency, best }))
