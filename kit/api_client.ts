/**
 * @module
 * The kit's way of talking to the gateway it started: requests with the admin key, a call that
 * must succeed (its error says what the API answered), and a bounded wait. Plain `fetch`, so the kit
 * uses the API exactly as a bot does.
 */

/** How often a wait asks again. */
const POLL_MS = 50;

/** Requests to one gateway with its key. */
export interface ApiClient {
  /** A request; `path` is below the API's base URL, `body` is sent as JSON. */
  request(method: string, path: string, body?: unknown): Promise<Response>;
  /** The JSON answer of a request that must succeed; else an error with the API's message. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export function createApiClient(url: string, apiKey: string): ApiClient {
  function request(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${url}${path}`, {
      method,
      headers: body === undefined
        ? { "X-Api-Key": apiKey }
        : { "X-Api-Key": apiKey, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
  return {
    request,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await request(method, path, body);
      const answer = await response.json();
      if (!response.ok) {
        throw new Error(`${method} ${path} answered ${response.status}: ${answer.error}`);
      }
      return answer as T;
    },
  };
}

/** Asks `check` until it gives a value, or fails after `timeoutMs` saying what it waited for. */
export async function poll<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | null>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
