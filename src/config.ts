import envSchema from 'env-schema'
import { Type, type Static } from 'typebox'

/**
 * Every environment variable sessiond reads, in one schema. The Config type is derived from it,
 * so the two cannot drift. `.env.example` lists the same variables with their defaults.
 */
export const ConfigSchema = Type.Object({
  NODE_ENV: Type.String({ default: 'development', description: 'development | test | production. Production refuses to start without DATABASE_URL and REDIS_URL.' }),
  HOST: Type.String({ default: '0.0.0.0', description: 'Address to listen on (default 0.0.0.0).' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'Port to listen on (default 3000).' }),
  LOG_LEVEL: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { default: 'info', description: 'pino log level (default info).' }),

  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL connection URL. Unset: embedded PGlite (development only).' })),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'PostgreSQL pool size (default 10).' }),
  DATABASE_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 60000, default: 5000, description: 'Timeout for connecting to PostgreSQL and for each query, in ms (default 5000).' }),
  DATABASE_PREPARED_STATEMENTS: Type.Boolean({ default: true, description: 'Run the user reads of a login as named prepared statements, planned once per connection (default true). Set false behind a pooler in transaction mode that does not track them (PgBouncer before 1.21, or with max_prepared_statements = 0).' }),
  MIGRATE_ON_START: Type.Boolean({ default: true, description: 'Apply pending migrations before listening, under a Postgres advisory lock so replicas never race (default true).' }),
  PGLITE_DATA_DIR: Type.Optional(Type.String({ minLength: 1, description: 'Embedded mode only: directory where PGlite keeps its data. Unset: in memory.' })),

  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'Redis URL (single node). Unset (and no sentinel/cluster settings): in-process store (development only).' })),
  REDIS_SENTINELS: Type.Optional(Type.String({ pattern: '^[^,:]+:[0-9]+(,[^,:]+:[0-9]+)*$', description: 'Sentinel mode: comma-separated host:port list of sentinels.' })),
  REDIS_SENTINEL_NAME: Type.String({ default: 'mymaster', description: 'Sentinel mode: name of the monitored master (default mymaster).' }),
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ pattern: '^[^,:]+:[0-9]+(,[^,:]+:[0-9]+)*$', description: 'Cluster mode: comma-separated host:port list of seed nodes.' })),
  REDIS_PASSWORD: Type.Optional(Type.String({ description: 'Password for sentinel/cluster modes (REDIS_URL carries its own).' })),
  REDIS_KEY_PREFIX: Type.String({ default: 'sessiond:', pattern: '^[^{}]*$', description: 'Prefix for every Redis key (default "sessiond:"). Must not contain braces (they are hash tags).' }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 10, maximum: 60000, default: 500, description: 'Timeout for each Redis command, in ms (default 500).' }),

  SESSION_IDLE_TTL: Type.Integer({ minimum: 60, default: 604800, description: 'Idle lifetime of a session in seconds (default 604800 = 7 days).' }),
  SESSION_ABSOLUTE_TTL: Type.Integer({ minimum: 60, default: 2592000, description: 'Absolute lifetime of a session in seconds (default 2592000 = 30 days).' }),
  SESSION_EXTEND_THROTTLE: Type.Integer({ minimum: 0, default: 60, description: 'Extend a session at most once per this many seconds (default 60; 0 = on every request).' }),

  COOKIE_NAME: Type.Optional(Type.String({ pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$', description: 'Session cookie name (default __Host-session when secure, session otherwise).' })),
  COOKIE_SECURE: Type.Boolean({ default: true, description: 'Mark the cookie Secure (default true).' }),
  COOKIE_SAMESITE: Type.Union([Type.Literal('lax'), Type.Literal('strict'), Type.Literal('none')], { default: 'lax', description: 'SameSite attribute (default lax).' }),
  COOKIE_DOMAIN: Type.Optional(Type.String({ minLength: 1, description: 'Domain attribute, to share the cookie with subdomains (default: none, host-only).' })),

  ALLOW_REGISTRATION: Type.Boolean({ default: true, description: 'Allow POST /v1/users (default true).' }),
  BODY_LIMIT: Type.Integer({ minimum: 1024, maximum: 10485760, default: 16384, description: 'Largest accepted request body in bytes (default 16384).' }),
  TRUST_PROXY: Type.String({ default: 'loopback', description: 'Addresses/CIDRs whose X-Forwarded-* headers are trusted, comma-separated (default loopback).' }),

  ARGON2_MEMORY_KIB: Type.Integer({ minimum: 1024, default: 19456, description: 'argon2id memory cost in KiB (default 19456).' }),
  ARGON2_TIME_COST: Type.Integer({ minimum: 1, default: 2, description: 'argon2id iterations (default 2).' }),
  ARGON2_PARALLELISM: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'argon2id lanes (default 1).' }),
  HASH_CONCURRENCY: Type.Integer({ minimum: 0, maximum: 64, default: 0, description: 'Password hashes running at once, each on its own thread (default 0 = one per CPU core, at most 8; set it to the CPUs a container really gets).' }),
  HASH_NICE: Type.Integer({ minimum: 0, maximum: 19, default: 19, description: 'How far below request handling the hashing threads are scheduled (Linux nice increment, 0–19; default 19), so a login storm cannot slow validate.' }),

  ADMIN_TOKEN: Type.Optional(Type.String({ pattern: '^\\s*[^,\\s]{16,}\\s*(,\\s*[^,\\s]{16,}\\s*)*$', description: 'Bearer token(s) for the admin API, comma-separated for rotation, each at least 16 characters. Unset: the admin API does not exist (404).' })),
  ALLOWED_ORIGINS: Type.Optional(Type.String({ pattern: '^\\s*https?://[^,/\\s]+\\s*(,\\s*https?://[^,/\\s]+\\s*)*$', description: 'Origins (scheme://host[:port]) allowed to make cookie-authenticated state-changing requests besides the service\'s own, comma-separated (default: none, same-origin only).' })),

  LOGIN_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: 'Forward-auth: absolute URL of the login page; unauthenticated browser navigations are sent to LOGIN_URL?rd=<original URL>. Unset: plain 401.' })),
  FORWARD_AUTH_HEADERS: Type.Union([Type.Literal('x-auth'), Type.Literal('remote')], { default: 'x-auth', description: 'Forward-auth identity headers: x-auth (X-Auth-User-Id, -Email, -Name, -Roles, X-Auth-Session-Id) or remote (Remote-User, -Email, -Name, -Groups). Default x-auth.' }),

  LOGIN_THROTTLE: Type.Boolean({ default: true, description: 'Brute-force protection for logins and registration (default true).' }),
  LOGIN_ACCOUNT_FREE_FAILURES: Type.Integer({ minimum: 1, default: 5, description: 'Failed logins per account before backoff starts (default 5).' }),
  LOGIN_IP_FREE_FAILURES: Type.Integer({ minimum: 1, default: 20, description: 'Failed logins per client IP before backoff starts (default 20).' }),
  LOGIN_BACKOFF_BASE_SECONDS: Type.Integer({ minimum: 1, default: 1, description: 'First backoff delay; it doubles with each further failure (default 1).' }),
  LOGIN_BACKOFF_MAX_SECONDS: Type.Integer({ minimum: 1, default: 900, description: 'Longest backoff delay (default 900 = 15 minutes).' }),
  LOGIN_FAILURE_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 3600, description: 'Failures older than this are forgotten (default 3600).' }),
  REGISTRATION_PER_IP: Type.Integer({ minimum: 0, default: 10, description: 'Registrations per client IP per window (default 10; 0 = unlimited).' }),
  REGISTRATION_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 3600, description: 'Window of REGISTRATION_PER_IP (default 3600).' })
})

export type Config = Static<typeof ConfigSchema> & {
  /** Derived, not read from the environment. */
  cookieName: string
  embeddedDatabase: boolean
  embeddedSessions: boolean
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type AjvError = { instancePath: string, message?: string, params: Record<string, unknown> }

function describe (errors: AjvError[]): string {
  return errors.map((e) => {
    const variable = typeof e.params.missingProperty === 'string' ? e.params.missingProperty : e.instancePath.replace(/^\//, '')
    return `${variable}: ${e.message ?? 'is invalid'}`
  }).join('; ')
}

/**
 * Reads and validates the configuration. Throws ConfigError naming the variable and what it
 * expected; the server turns that into a one-line message and exit code 1.
 */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset": docker-compose and shells often pass VAR= for absent values.
  const data = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  let parsed: Static<typeof ConfigSchema>
  try {
    parsed = envSchema<Static<typeof ConfigSchema>>({ schema: ConfigSchema, data, dotenv: false })
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors
    throw new ConfigError(`invalid configuration: ${errors ? describe(errors) : (err as Error).message}`)
  }

  const redisConfigured = parsed.REDIS_URL !== undefined || parsed.REDIS_SENTINELS !== undefined || parsed.REDIS_CLUSTER_NODES !== undefined
  if (parsed.NODE_ENV === 'production') {
    // A memory store behind a load balancer logs users out at random: never fall back silently.
    if (parsed.DATABASE_URL === undefined) throw new ConfigError('invalid configuration: DATABASE_URL is required when NODE_ENV=production')
    if (!redisConfigured) throw new ConfigError('invalid configuration: REDIS_URL (or REDIS_SENTINELS / REDIS_CLUSTER_NODES) is required when NODE_ENV=production')
  }
  if ([parsed.REDIS_URL, parsed.REDIS_SENTINELS, parsed.REDIS_CLUSTER_NODES].filter((v) => v !== undefined).length > 1) {
    throw new ConfigError('invalid configuration: set only one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES')
  }
  if (parsed.SESSION_ABSOLUTE_TTL < parsed.SESSION_IDLE_TTL) {
    throw new ConfigError('invalid configuration: SESSION_ABSOLUTE_TTL must be at least SESSION_IDLE_TTL')
  }
  if (parsed.COOKIE_SAMESITE === 'none' && !parsed.COOKIE_SECURE) {
    throw new ConfigError('invalid configuration: COOKIE_SAMESITE=none requires COOKIE_SECURE=true (browsers reject it otherwise)')
  }

  if (parsed.LOGIN_URL !== undefined && !URL.canParse(parsed.LOGIN_URL)) {
    throw new ConfigError('invalid configuration: LOGIN_URL must be an absolute http(s) URL')
  }

  const cookieName = parsed.COOKIE_NAME ?? (parsed.COOKIE_SECURE ? (parsed.COOKIE_DOMAIN ? '__Secure-session' : '__Host-session') : 'session')
  if (cookieName.startsWith('__Host-') && (!parsed.COOKIE_SECURE || parsed.COOKIE_DOMAIN !== undefined)) {
    throw new ConfigError('invalid configuration: COOKIE_NAME with the __Host- prefix needs COOKIE_SECURE=true and no COOKIE_DOMAIN')
  }
  if (cookieName.startsWith('__Secure-') && !parsed.COOKIE_SECURE) {
    throw new ConfigError('invalid configuration: COOKIE_NAME with the __Secure- prefix needs COOKIE_SECURE=true')
  }

  return {
    ...parsed,
    cookieName,
    embeddedDatabase: parsed.DATABASE_URL === undefined,
    embeddedSessions: !redisConfigured
  }
}
