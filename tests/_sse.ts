/**
 * @module
 * Reading a Server-Sent Events response in a test, message by message, as far as the test needs.
 */

export interface SseMessage {
  event?: string;
  id?: string;
  data: string;
}

/** An SSE response read message by message; `until` reads on until a message matches. */
export function sseReader(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const messages: SseMessage[] = [];
  let buffer = "";
  let closed = false;
  return {
    messages,
    /** Reads until a message (of all read so far) matches; fails after `timeoutMs`. */
    async until(match: (message: SseMessage) => boolean, timeoutMs = 10_000) {
      const deadline = setTimeout(() => reader.cancel(), timeoutMs);
      try {
        while (!messages.some(match)) {
          const { value, done } = await reader.read();
          if (done) {
            closed = true;
            throw new Error(`The stream ended first; it had ${JSON.stringify(messages)}`);
          }
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const message: SseMessage = { data: "" };
            for (const line of block.split("\n")) {
              if (line.startsWith("event: ")) message.event = line.slice(7);
              else if (line.startsWith("id: ")) message.id = line.slice(4);
              else if (line.startsWith("data: ")) message.data += line.slice(6);
            }
            if (message.data) messages.push(message);
          }
        }
      } finally {
        clearTimeout(deadline);
      }
      return messages;
    },
    async close() {
      if (!closed) await reader.cancel().catch(() => {});
    },
  };
}

/** What `sseReader` gives. */
export type SseReader = ReturnType<typeof sseReader>;

/**
 * `phone`'s event stream (`GET /{phone}/events` of `server`), read by `use` and closed after it,
 * whatever it did.
 */
export async function withEventStream<T>(
  server: { request(method: string, path: string): Promise<Response> },
  phone: string,
  use: (stream: SseReader) => Promise<T>,
): Promise<T> {
  const response = await server.request("GET", `/${phone}/events`);
  if (response.status !== 200) {
    throw new Error(`GET /${phone}/events answered ${response.status}: ${await response.text()}`);
  }
  const stream = sseReader(response);
  try {
    return await use(stream);
  } finally {
    await stream.close();
  }
}
