/** Injectable time source: tests drive idle and absolute expiry through it instead of sleeping. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
