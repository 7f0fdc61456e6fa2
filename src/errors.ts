import createError from '@fastify/error'

/**
 * Every error the API returns, in one place. The `code` is the stable, machine-readable contract;
 * messages may change. Routes throw these; the error handler in app.ts shapes them as
 * `{ statusCode, code, error, message }` (Fastify's own shape).
 */
export const ValidationFailed = createError<[string]>('VALIDATION_FAILED', '%s', 400)
export const InvalidJson = createError('INVALID_JSON', 'request body is not valid JSON', 400)
export const UnsupportedMediaType = createError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json', 415)
export const BodyTooLarge = createError('BODY_TOO_LARGE', 'request body is too large', 413)
export const NotFound = createError<[string]>('NOT_FOUND', '%s', 404)
export const MethodNotAllowed = createError('METHOD_NOT_ALLOWED', 'method not allowed', 405)

export const SessionInvalid = createError('SESSION_INVALID', 'no valid session', 401)
export const InvalidCredentials = createError('INVALID_CREDENTIALS', 'invalid email or password', 401)
export const EmailTaken = createError('EMAIL_TAKEN', 'an account with this email already exists', 409)
export const RegistrationClosed = createError('REGISTRATION_CLOSED', 'registration is closed', 403)
export const PasswordTooCommon = createError('PASSWORD_TOO_COMMON', 'password is too common; choose another', 400)
export const RateLimited = createError<[number]>('RATE_LIMITED', 'too many attempts; retry in %d seconds', 429)
export const Forbidden = createError('FORBIDDEN', 'forbidden', 403)
export const CsrfRejected = createError('CSRF_REJECTED', 'cross-site request rejected', 403)
export const AdminUnauthorized = createError('ADMIN_UNAUTHORIZED', 'a valid admin token is required', 401)
export const UserNotFound = createError('USER_NOT_FOUND', 'user not found', 404)
export const SessionNotFound = createError('SESSION_NOT_FOUND', 'session not found', 404)

export const StoreUnavailable = createError('STORE_UNAVAILABLE', 'session store unavailable; retry shortly', 503)
export const DatabaseUnavailable = createError('DATABASE_UNAVAILABLE', 'user database unavailable; retry shortly', 503)
export const InternalError = createError('INTERNAL_ERROR', 'internal server error', 500)

/** Codes listed for the OpenAPI document and the README. */
export const ERROR_CODES = [
  'VALIDATION_FAILED', 'INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'BODY_TOO_LARGE', 'NOT_FOUND', 'METHOD_NOT_ALLOWED',
  'SESSION_INVALID', 'INVALID_CREDENTIALS', 'EMAIL_TAKEN', 'REGISTRATION_CLOSED', 'PASSWORD_TOO_COMMON',
  'RATE_LIMITED', 'FORBIDDEN', 'CSRF_REJECTED', 'ADMIN_UNAUTHORIZED', 'USER_NOT_FOUND', 'SESSION_NOT_FOUND',
  'STORE_UNAVAILABLE', 'DATABASE_UNAVAILABLE', 'NOT_READY', 'INTERNAL_ERROR'
] as const

/** Seconds a client should wait before retrying after a 503 from a store outage. */
export const RETRY_AFTER_SECONDS = 1
