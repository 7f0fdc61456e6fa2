// Runs in the password pool's worker threads (see passwords.ts): argon2 synchronously, one hash at
// a time per thread, at the thread's lowered scheduling priority.
// Plain JavaScript on purpose: the worker imports this file from piscina's own code, where neither
// tsx nor tap's loader is active, so it must run as it is, from src/ and from dist/ alike.
import { hashSync, verifySync } from '@node-rs/argon2'

/** @param {{ password: string, options: import('@node-rs/argon2').Options }} task */
export function hash ({ password, options }) {
  return hashSync(password, options)
}

/** @param {{ stored: string, password: string }} task */
export function verify ({ stored, password }) {
  try {
    return verifySync(stored, password)
  } catch {
    // a stored value that is not a PHC string verifies nothing
    return false
  }
}
