// Raw @node-rs/argon2 verify throughput on all cores, in a child process so it has the machine
// to itself. BENCH_CONCURRENCY: comma-separated levels to try (default: cores, 2×cores, 8);
// BENCH_SECONDS per level. Prints one JSON line with the rate per level and the best.
import { availableParallelism } from 'node:os'
import { hash, verify } from '@node-rs/argon2'

const seconds = Number(process.env.BENCH_SECONDS ?? 5)
// algorithm 2 = Algorithm.Argon2id (a const enum, which verbatimModuleSyntax cannot import)
const params = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 }
const password = 'bench-Pass-argon2-raw'
const phc = await hash(password, params)
const cores = availableParallelism()
const levels = process.env.BENCH_CONCURRENCY
  ? process.env.BENCH_CONCURRENCY.split(',').map(Number)
  : [...new Set([cores, cores * 2, 8])]

async function rate (concurrency: number, secs: number): Promise<number> {
  let done = 0
  const end = Date.now() + secs * 1000
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      if (!(await verify(phc, password))) throw new Error('verify failed')
      done++
    }
  }))
  return done / ((performance.now() - t0) / 1000)
}

await rate(cores, 0.5) // warm-up
const byConcurrency: Record<number, number> = {}
for (const c of levels) byConcurrency[c] = await rate(c, seconds)
const [bestConcurrency, best] = Object.entries(byConcurrency).sort((a, b) => b[1] - a[1])[0]!
console.log(JSON.stringify({ cores, params, seconds, byConcurrency, best, bestConcurrency: Number(bestConcurrency) }))
