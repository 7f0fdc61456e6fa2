// Runs in the password pool's worker threads (see passwords.ts): argon2 synchronously, one hash at
// a time per thread, at the thread's lowered scheduling priority.
import { hashSync, verifySync, type Options } from '@node-rs/argon2'

export function hash ({ password, options }: { password: string, options: Options }): string {
  return hashSync(password, options)
}

export function verify ({ stored, password }: { stored: string, password: string }): boolean {
  try {
    return verifySync(stored, password)
  } catch {
    // a stored value that is not a PHC string verifies nothing
    return false
  }
}
