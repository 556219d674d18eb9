/**
 * @module
 * The one error type of the API, and the one place errors become responses. Everything that fails
 * on purpose throws an `ApiError`, a Hono `HTTPException` whose `getResponse()` is the contract's
 * body `{ error, code, statusCode }`; `createErrorHandler` is the app's `onError` (tests use it
 * too): an `ApiError` as it is, Hono's own exceptions in the contract's vocabulary, anything else
 * logged and answered `500` without its details.
 */
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { describeError, type Logger } from "./logger.ts";
import { StoreUnavailableError } from "./store/errors.ts";
import type { AppEnv } from "./middleware/principal.ts";

export type ErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "REQUEST_TIMEOUT"
  | "CLIENT_NOT_READY"
  | "IDEMPOTENCY_KEY_IN_USE"
  | "IDEMPOTENCY_KEY_REUSED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "TOO_MANY_REQUESTS"
  | "INTERNAL_ERROR"
  | "NOT_IMPLEMENTED"
  | "STORE_UNAVAILABLE"
  | "TIMEOUT";

export type ErrorStatus =
  | 400
  | 401
  | 403
  | 404
  | 405
  | 408
  | 409
  | 413
  | 415
  | 422
  | 429
  | 500
  | 501
  | 503
  | 504;

export const STATUS_OF: Record<ErrorCode, ErrorStatus> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CLIENT_NOT_READY: 409,
  IDEMPOTENCY_KEY_IN_USE: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  STORE_UNAVAILABLE: 503,
  TIMEOUT: 504,
};

export interface ErrorBody {
  error: string;
  code: ErrorCode;
  statusCode: number;
}

export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  override readonly status: ErrorStatus;
  /** Headers the response must carry (`Retry-After`, for one). */
  readonly headers: Record<string, string>;
  constructor(
    code: ErrorCode,
    message: string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(STATUS_OF[code], { message, cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.status = STATUS_OF[code];
    this.headers = options.headers ?? {};
  }

  toBody(): ErrorBody {
    return { error: this.message, code: this.code, statusCode: this.status };
  }

  /**
   * The contract's error response (the body, the status and any headers), as Hono's default
   * `onError` renders an `HTTPException`: a sub-app without our handler answers the same.
   */
  override getResponse(): Response {
    return Response.json(this.toBody(), { status: this.status, headers: this.headers });
  }
}

/** Hono's own exceptions (malformed JSON, for one) in the contract's vocabulary. */
const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  413: "PAYLOAD_TOO_LARGE",
};

/**
 * `error`'s response, built through the context (the same as `getResponse()`, without building a
 * second `Response` and streaming its body out of the first).
 */
export function renderApiError(c: Context, error: ApiError): Response {
  return c.json(error.toBody(), error.status, error.headers);
}

/** What any error thrown while serving a request becomes. */
export function createErrorHandler(log: Logger): ErrorHandler<AppEnv> {
  return function renderError(error, c) {
    if (error instanceof ApiError) return renderApiError(c, error);
    if (error instanceof StoreUnavailableError) {
      // The tenant learns that the database is away; the log has where and why.
      log.warn("the database cannot be reached", {
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        error: describeError(error.cause ?? error),
      });
      return renderApiError(c, storeUnavailable(error.message));
    }
    if (error instanceof HTTPException && error.status === 415) {
      const type = c.req.header("content-type");
      return renderApiError(
        c,
        unsupportedMediaType(
          type
            ? `Content-Type "${type.slice(0, 100)}" is not accepted here: send application/json`
            : "The request has a body but no Content-Type: send application/json",
        ),
      );
    }
    if (error instanceof HTTPException && CODE_OF_STATUS[error.status]) {
      return renderApiError(c, new ApiError(CODE_OF_STATUS[error.status], error.message));
    }
    log.error("unhandled error", {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      error: describeError(error),
      stack: error.stack,
    });
    return renderApiError(c, new ApiError("INTERNAL_ERROR", "Internal server error"));
  };
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

export function storeUnavailable(message: string): ApiError {
  return new ApiError("STORE_UNAVAILABLE", message, { headers: { "Retry-After": "1" } });
}

export function timeout(message: string): ApiError {
  return new ApiError("TIMEOUT", message);
}
