import { TAG_LENGTH } from './token.js'

const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const B64 = new Int32Array(128)
for (let i = 0; i < DIGITS.length; i++) B64[DIGITS.charCodeAt(i)] = i
const digit = (id: string, i: number) => B64[id.charCodeAt(TAG_LENGTH + i)] as number

/**
 * The lastSeenAt this process last read for each session, as a hint for validate(): a fixed
 * direct-mapped table in typed arrays, indexed and fingerprinted by the random part of the
 * session id (ids are checked by parseToken first). Fixed memory (12 B a slot, 1.5 MB) and nothing
 * for the garbage collector to trace or promote, however many sessions pass through (a bounded Map
 * would keep inserting and evicting entries that live long enough to reach the old generation).
 * A lost or overwritten entry only sends validate() to the script. A fingerprint collision (1 in
 * 2^30) can hide a due slide for at most one throttle window, the accuracy SPEC §4 allows anyway.
 */
export function recentSessions (bits = 17) {
  const size = 1 << bits
  const times = new Float64Array(size)
  const prints = new Int32Array(size)
  const slot = (id: string) => ((digit(id, 0) << 12) | (digit(id, 1) << 6) | digit(id, 2)) & (size - 1)
  // 30 bits from five more characters; bit 30 set so an empty slot (0) never matches.
  const print = (id: string) => (1 << 30) | (digit(id, 3) << 24) | (digit(id, 4) << 18) | (digit(id, 5) << 12) | (digit(id, 6) << 6) | digit(id, 7)

  return {
    get (id: string): number | undefined {
      const i = slot(id)
      return prints[i] === print(id) ? times[i] : undefined
    },
    set (id: string, lastSeenAt: number) {
      const i = slot(id)
      prints[i] = print(id)
      times[i] = lastSeenAt
    },
    forget (id: string) {
      const i = slot(id)
      if (prints[i] === print(id)) prints[i] = 0
    }
  }
}
