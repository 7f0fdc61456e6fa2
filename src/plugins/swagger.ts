import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { SHARED_SCHEMAS } from '../schemas.js'
import { finishDocument } from './openapi-document.js'

/** Registered before any route, or the routes vanish from the document. */
async function swaggerPlugin (app: FastifyInstance, { version }: { version: string }) {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'sessiond',
        version,
        description: 'Session/auth service: users in PostgreSQL, sessions in Redis.',
        license: { name: 'MIT', identifier: 'MIT' }
      },
      servers: [{ url: '/', description: 'This sessiond' }],
      components: {
        securitySchemes: {
          sessionCookie: { type: 'apiKey', in: 'cookie', name: '__Host-session', description: 'Session cookie (name set by COOKIE_NAME).' },
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Session token `<id>.<secret>`.' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'One of ADMIN_TOKEN.' }
        }
      }
    },
    // Framework errors, per-response error code enums, Retry-After: see openapi-document.ts.
    transformObject: (doc) => ('openapiObject' in doc ? finishDocument(doc.openapiObject) : doc.swaggerObject),
    // Component names come from each shared schema's $id, so they stay stable.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`)
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { displayOperationId: true } })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}

export default fp(swaggerPlugin, { name: 'swagger' })
