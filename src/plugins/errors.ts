import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import {
  BodyTooLarge, InternalError, InvalidJson, NotFound, RETRY_AFTER_SECONDS, UnsupportedMediaType, ValidationFailed
} from '../errors.js'

const TRANSLATE: Record<string, (err: FastifyError) => FastifyError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new BodyTooLarge(),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new UnsupportedMediaType(),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new InvalidJson(),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new ValidationFailed('body must not be empty'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: (err) => new ValidationFailed(err.message)
}

/**
 * Fastify's router answers a malformed escape in a path parameter (FST_ERR_BAD_URL, 400) and a
 * path parameter over 100 characters (FST_ERR_MAX_PARAM_LENGTH, 414) itself, before any hook and
 * outside the error handler. Passed as the `frameworkErrors` option, this gives them our shape and
 * a stable code: both are bad input, 400 VALIDATION_FAILED. (Found by the OpenAPI fuzzer.)
 */
export function frameworkErrors (err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? 'params: a path parameter is longer than 100 characters'
    : 'params: the URL path is not valid percent-encoding'
  const e = new ValidationFailed(message)
  reply.code(400).send({ statusCode: 400, code: e.code, error: 'Bad Request', message: e.message })
}

/**
 * One error handler for the whole service: every response has the shape
 * `{ statusCode, code, error, message }` with a stable code. Client mistakes keep their 4xx;
 * anything else becomes a 500 whose message is hidden and logged with the request id.
 */
async function errorsPlugin (app: FastifyInstance) {
  app.setErrorHandler((raw: FastifyError, request, reply) => {
    let err: FastifyError = raw
    if (raw.validation) {
      err = new ValidationFailed(raw.message)
    } else if (raw.code in TRANSLATE) {
      err = (TRANSLATE[raw.code] as (e: FastifyError) => FastifyError)(raw)
    } else if (raw instanceof SyntaxError && raw.statusCode === 400) {
      err = new InvalidJson()
    }
    const status = err.statusCode ?? 500

    if (status === 503) {
      // A store outage: the client should retry; the cause stays in our logs only.
      request.log.warn({ err: raw.cause ?? raw }, err.message)
      reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    } else if (status >= 500 || !err.code || err.code.startsWith('FST_') || err.code.startsWith('ERR_')) {
      if (status >= 500) {
        request.log.error({ err: raw }, 'unhandled error')
        err = new InternalError()
      } else {
        // A 4xx from Fastify or Node we have not named: keep the status, give it a stable code.
        err = Object.assign(new ValidationFailed(raw.message), { statusCode: status })
      }
    }
    const retryAfter = (err as { retryAfter?: unknown }).retryAfter
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
    const statusCode = err.statusCode ?? 500
    reply.code(statusCode).send({
      statusCode,
      code: err.code,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message: err.message
    })
  })

  app.setNotFoundHandler((request, reply) => {
    const err = new NotFound(`route ${request.method} ${request.url.split('?')[0]} not found`)
    reply.code(404).send({ statusCode: 404, code: err.code, error: 'Not Found', message: err.message })
  })
}

export default fp(errorsPlugin, { name: 'errors' })
