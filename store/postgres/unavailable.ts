/**
 * @module
 * Tells a database out of reach from a query that failed, and turns the first into the typed
 * `StoreUnavailableError` the API answers `503 STORE_UNAVAILABLE` with. `translateErrors(repo)`
 * wraps every method of a repository, so the repositories themselves stay plain SQL.
 */
import { StoreUnavailableError } from "../errors.ts";

/** The driver's own codes for a connection that failed, closed or timed out, and the OS's. */
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a server that is not serving: class 08 (connection exception), shutting down or
 * starting (57P01–57P03), out of connections (53300).
 */
function isUnavailableState(code: string): boolean {
  return code.startsWith("08") || /^57P0[123]$/.test(code) || code === "53300";
}

/** Whether `error` says the database could not be reached (not that a statement failed). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (CONNECTION_CODES.has(code) || isUnavailableState(code))) {
    return true;
  }
  // Deno's own socket errors, when the driver passes them on unwrapped.
  return error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.TimedOut;
}

/** `error` as the store's callers should see it. */
export function translateError(error: unknown): unknown {
  return isConnectionError(error) ? new StoreUnavailableError({ cause: error }) : error;
}

/**
 * `repository` with every method's connection failures rejected as `StoreUnavailableError`. A
 * proxy, so methods a class keeps on its prototype, and ones added later, are wrapped too.
 */
export function translateErrors<T extends object>(repository: T): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(repository, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (typeof value !== "function") return value;
      let method = wrapped.get(name);
      if (!method) {
        method = (...args: unknown[]) => {
          let result: unknown;
          try {
            result = value.apply(target, args);
          } catch (error) {
            throw translateError(error);
          }
          if (result instanceof Promise) {
            return result.catch((error) => {
              throw translateError(error);
            });
          }
          return result;
        };
        wrapped.set(name, method);
      }
      return method;
    },
  });
}
