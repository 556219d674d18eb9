/**
 * @module
 * The Worker that sends the node's webhook POSTs (`createWorkerSender` in `webhook_sender.ts`
 * starts it): each message from the main thread is a list of posts to send and of posts to abort
 * (their time ran out, or the server is stopping); each answer it sends back is a list of results,
 * gathered over one turn, as the main thread gathers its posts.
 */
/// <reference lib="deno.worker" />
import { createDirectSender, type FromSender, type ToSender } from "./webhook_sender.ts";

const sender = createDirectSender();
const inFlight = new Map<number, AbortController>();
let results: FromSender[] = [];

function answer(result: FromSender): void {
  if (results.length === 0) queueMicrotask(flush);
  results.push(result);
}

function flush(): void {
  const batch = results;
  results = [];
  self.postMessage(batch);
}

self.onmessage = (event: MessageEvent<ToSender[]>) => {
  for (const message of event.data) {
    if ("abort" in message) {
      inFlight.get(message.abort)?.abort();
      continue;
    }
    const { id, request } = message;
    const controller = new AbortController();
    inFlight.set(id, controller);
    sender.post(request, controller.signal).then(
      (result) => answer({ id, answer: result }),
      (error) =>
        answer({
          id,
          error: error instanceof Error
            ? { name: error.name, message: error.message }
            : { name: "Error", message: String(error) },
        }),
    ).finally(() => inFlight.delete(id));
  }
};

// Loaded: the main thread starts an attempt's clock from here (`WebhookSender.ready`).
self.postMessage("ready");
