import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { validate as lintDockerfile } from 'dockerfile-utils'
import t from 'tap'
import { parse } from 'yaml'
import { ConfigSchema } from '../../src/config.js'
import { build } from '../helper.js'

// There is no Docker engine in CI: these checks are what can be verified without one.
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

interface Service {
  image?: string
  build?: unknown
  command?: string[]
  environment?: Record<string, string>
  env_file?: unknown
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
  volumes?: string[]
  ports?: string[]
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>, volumes: Record<string, unknown> }

t.test('docker-compose.yml is valid against the Compose Specification schema', async (t) => {
  const { $schema: _drop, ...schema } = JSON.parse(read('test/fixtures/compose-spec.json')) as Record<string, unknown>
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }))
  const valid = ajv.validate(schema, compose)
  t.ok(valid, 'schema-valid')
  t.same(ajv.errors ?? [], [])

  // The compose files shipped as examples are held to the same schema.
  const examples = new URL('../../examples/', import.meta.url)
  const files = existsSync(examples) ? readdirSync(examples, { recursive: true, encoding: 'utf8' }).filter((f) => /(^|\/)(docker-)?compose[^/]*\.ya?ml$/.test(f)) : []
  for (const file of files) {
    t.ok(ajv.validate(schema, parse(read(`examples/${file}`))), `examples/${file} is schema-valid`)
    t.same(ajv.errors ?? [], [])
  }

  // And the schema really rejects mistakes (so the check above means something).
  t.notOk(ajv.validate(schema, { services: { x: { depends_on: { y: { condition: 'healthy' } } } } }), 'a bad condition is rejected')
})

t.test('compose: sessiond waits for healthy Postgres and Redis, every service has a healthcheck, data in named volumes', async (t) => {
  const { sessiond, postgres, redis } = compose.services
  t.ok(sessiond && postgres && redis)
  t.same(sessiond?.depends_on, { postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } })
  for (const [name, service] of Object.entries(compose.services)) t.ok(service.healthcheck?.test.length, `${name} has a healthcheck`)
  t.match(sessiond?.healthcheck?.test.join(' '), /\/health\/ready/)
  t.same(Object.keys(compose.volumes).sort(), ['postgres-data', 'redis-data'])
  t.ok(postgres?.volumes?.includes('postgres-data:/var/lib/postgresql/data'))
  t.ok(redis?.volumes?.includes('redis-data:/data'))
  t.match(redis?.command?.join(' '), /--appendonly yes/, 'Redis persists sessions (AOF)')
  for (const service of [postgres, redis]) t.match(service?.image, /^[a-z]+:\d+\.\d+/, 'images pinned to a release')
})

t.test('compose: sessiond gets every variable production needs, and only variables sessiond knows', async (t) => {
  const env = compose.services.sessiond?.environment ?? {}
  t.equal(env.NODE_ENV, 'production')
  t.match(env.DATABASE_URL, /^postgres:\/\/sessiond:.*@postgres:5432\/sessiond$/)
  t.equal(env.REDIS_URL, 'redis://redis:6379')
  t.ok('COOKIE_SECURE' in env && 'TRUST_PROXY' in env && 'MIGRATE_ON_START' in env)
  t.same(compose.services.sessiond?.env_file, [{ path: '.env', required: false }], 'other variables come from an optional .env')
  const known = Object.keys(ConfigSchema.properties)
  for (const name of Object.keys(env)) t.ok(known.includes(name), `${name} is a sessiond variable`)
})

t.test('Dockerfile: no lint diagnostics, multi-stage, pinned base, non-root, healthcheck on /health/live', async (t) => {
  const dockerfile = read('Dockerfile')
  const diagnostics = lintDockerfile(dockerfile)
  t.same(diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`), [], 'dockerfile-utils finds nothing')

  // A broken Dockerfile is caught (the linter works offline and actually lints).
  t.ok(lintDockerfile('FROM node:20\nRUNN true\n').length > 0)

  t.match(dockerfile, /^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m, 'exact Node 20 release')
  t.equal(dockerfile.match(/^FROM /gm)?.length, 2, 'two stages')
  t.match(dockerfile, /^RUN npm ci --omit=dev/m, 'runtime stage has production dependencies only')
  t.match(dockerfile, /^USER node$/m, 'non-root')
  t.match(dockerfile, /^HEALTHCHECK .*\\\n\s+CMD \["node", "-e", "fetch\(.*\/health\/live/m)
  t.match(dockerfile, /^CMD \["node", "dist\/server\.js"\]$/m)
  const ignore = read('.dockerignore').split('\n')
  for (const entry of ['.git', 'node_modules', 'dist', '.env', 'test']) t.ok(ignore.includes(entry), `.dockerignore has ${entry}`)
})

t.test('the healthcheck commands of the Dockerfile and the compose file work (exit 0 when up, 1 when not)', async (t) => {
  const dockerfile = read('Dockerfile')
  const line = /^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$/m.exec(dockerfile)?.[1]
  const image = JSON.parse(line ?? '[]') as string[]
  const service = compose.services.sessiond?.healthcheck?.test ?? []
  t.equal(service[0], 'CMD')
  const probes = { 'Dockerfile HEALTHCHECK (/health/live)': image, 'compose healthcheck (/health/ready)': service.slice(1) }

  const app = await build(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = String((app.server.address() as { port: number }).port)
  const run = async ([cmd, ...args]: string[]) => await promisify(execFile)(cmd as string, args, { env: { PATH: process.env.PATH, PORT: port } })
    .then(() => 0, (err: { code?: number }) => err.code ?? -1)
  for (const [name, argv] of Object.entries(probes)) {
    t.equal(argv[0], 'node', `${name} runs node (no curl in slim images)`)
    t.equal(await run(argv), 0, `${name}: exit 0 while the server is up`)
  }
  await app.close()
  for (const [name, argv] of Object.entries(probes)) t.equal(await run(argv), 1, `${name}: exit 1 once it is gone`)
})
