/**
 * @module
 * The one error type of the API. Everything that fails on purpose throws an `ApiError`; the app's
 * single `onError` renders it as the contract's body `{ error, code, statusCode }`.
 */

export type ErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "REQUEST_TIMEOUT"
  | "CLIENT_NOT_READY"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "TOO_MANY_REQUESTS"
  | "INTERNAL_ERROR"
  | "NOT_IMPLEMENTED"
  | "TIMEOUT";

export const STATUS_OF: Record<
  ErrorCode,
  400 | 401 | 403 | 404 | 405 | 408 | 409 | 413 | 415 | 429 | 500 | 501 | 504
> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CLIENT_NOT_READY: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  TIMEOUT: 504,
};

export interface ErrorBody {
  error: string;
  code: ErrorCode;
  statusCode: number;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Headers the response must carry (`Retry-After`, for one). */
  readonly headers: Record<string, string>;
  constructor(
    code: ErrorCode,
    message: string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.status = STATUS_OF[code];
    this.headers = options.headers ?? {};
  }

  toBody(): ErrorBody {
    return { error: this.message, code: this.code, statusCode: this.status };
  }

  /** The contract's error response: the body, the status and any headers. */
  toResponse(): Response {
    return Response.json(this.toBody(), { status: this.status, headers: this.headers });
  }
}

export function badRequest(message: string): ApiError {
  return new ApiError("BAD_REQUEST", message);
}

export function unauthorized(message = "Missing or invalid credentials"): ApiError {
  return new ApiError("UNAUTHORIZED", message);
}

export function forbidden(message: string): ApiError {
  return new ApiError("FORBIDDEN", message);
}

export function notFound(message: string): ApiError {
  return new ApiError("NOT_FOUND", message);
}

export function sessionNotFound(phoneNumber: string): ApiError {
  return notFound(`Session "${phoneNumber}" not found`);
}

export function clientNotReady(phoneNumber: string, status: string): ApiError {
  return new ApiError(
    "CLIENT_NOT_READY",
    `Session "${phoneNumber}" is not connected (status ${status})`,
  );
}

export function payloadTooLarge(message: string): ApiError {
  return new ApiError("PAYLOAD_TOO_LARGE", message);
}

export function methodNotAllowed(method: string, path: string, allowed: string[]): ApiError {
  return new ApiError(
    "METHOD_NOT_ALLOWED",
    `${method} is not allowed on ${path}: use ${allowed.join(", ")}`,
    { headers: { Allow: allowed.join(", ") } },
  );
}

export function requestTimeout(message: string): ApiError {
  return new ApiError("REQUEST_TIMEOUT", message);
}

export function unsupportedMediaType(message: string): ApiError {
  return new ApiError("UNSUPPORTED_MEDIA_TYPE", message);
}

export function tooManyRequests(message: string, retryAfterSeconds: number): ApiError {
  return new ApiError("TOO_MANY_REQUESTS", message, {
    headers: { "Retry-After": String(retryAfterSeconds) },
  });
}

export function notImplemented(message: string): ApiError {
  return new ApiError("NOT_IMPLEMENTED", message);
}

export function timeout(message: string): ApiError {
  return new ApiError("TIMEOUT", message);
}
