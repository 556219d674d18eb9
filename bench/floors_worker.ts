/**
 * @module
 * The Worker of `bench/floors.ts`: answers plain `postMessage` echoes, and exposes an echo through
 * Comlink on the same batched channel the session Workers use.
 */
/// <reference lib="deno.worker" />
import * as Comlink from "comlink";
import { batchedChannel } from "../sessions/batched_endpoint.ts";

const answer = { messageId: "true_15551234567@c.us_3EB0C0FFEE0123456789", timestamp: 1 };

if (self.name === "plain") {
  self.onmessage = (event: MessageEvent<{ id: number }>) => {
    self.postMessage({ id: event.data.id, value: answer });
  };
} else {
  const channel = batchedChannel(self, { answers: true });
  Comlink.expose({ call: (_method: string, _args: unknown[]) => answer }, channel.endpoint);
}
