/**
 * Writes openapi/openapi.json from the route schemas: `npm run openapi`. The app is built in
 * embedded mode (PGlite, in-process sessions), so no database or Redis is needed. Keys are sorted
 * so the file only changes when the API does; `npm run openapi:check` fails CI on any difference.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

/**
 * Settings that switch on every optional route group, so the document describes all of them
 * (e.g. the admin API exists only when ADMIN_TOKEN is set). Values are placeholders.
 */
export const DOCUMENT_ENV: Record<string, string> = {
  LOG_LEVEL: 'silent',
  ADMIN_TOKEN: 'openapi-generation-placeholder-token-0000000000',
  LOGIN_URL: 'https://login.example.test/login'
}

/** Recursively sorts object keys; arrays keep their order (it can mean something). */
export function sortKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]))
  }
  return value
}

export async function generateDocument (env: Record<string, string> = DOCUMENT_ENV): Promise<string> {
  const app = await buildApp(loadConfig(env), { logger: false })
  try {
    await app.ready()
    return JSON.stringify(sortKeys(app.swagger()), null, 2) + '\n'
  } finally {
    await app.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = new URL('../openapi/openapi.json', import.meta.url)
  mkdirSync(new URL('.', out), { recursive: true })
  writeFileSync(out, await generateDocument())
  console.log(`wrote ${fileURLToPath(out)}`)
}
