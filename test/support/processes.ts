import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

/*
 * Every process a test starts is registered here and stopped by pid when the test ends; the exit
 * hook is a safety net should a test file crash before its teardown runs. Nothing else is touched.
 */
const live = new Set<ChildProcess>()

process.on('exit', () => {
  for (const child of live) {
    try { if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL') } catch {}
  }
})

export function startProcess (command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  live.add(child)
  child.once('exit', () => live.delete(child))
  // Drain output so a chatty child never blocks on a full pipe.
  child.stdout?.resume()
  child.stderr?.resume()
  return child
}

/** Sends `signal` to the child by pid; resolves once it has exited (SIGKILL after `graceMs`). */
export async function stopProcess (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try { process.kill(child.pid, 'SIGCONT') } catch {}
  try { process.kill(child.pid, signal) } catch {}
  const timer = setTimeout(() => {
    try { if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL') } catch {}
  }, graceMs)
  await exited
  clearTimeout(timer)
}
