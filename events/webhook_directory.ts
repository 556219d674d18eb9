/**
 * @module
 * Where events go and how each destination is sent, as configured now: the operator's
 * `WEBHOOK_URL` (from the environment) and each number's webhooks (the `webhooks` table, cached
 * per number until they are replaced or the number is forgotten). The pipeline asks it which
 * destinations want an event; the dispatcher asks it before every attempt for the destination's
 * URL, secret and headers, so a retry is sent as the webhook is configured at that moment, and a
 * destination that nobody configures any more is known to be gone. When another node replaces a
 * number's webhooks, the pipeline hears of it (`Outbox.watch`) and calls `forget`.
 */
import { type Envelope, wantsEvent } from "./envelope.ts";
import {
  globalDestination,
  numberDestination,
  type Outbox,
  parseDestination,
  type WebhookConfig,
} from "./outbox.ts";

/** The operator's webhook, from the environment. */
export interface OperatorWebhook {
  /** `WEBHOOKS_ENABLED`: false queues no deliveries at all (for any webhook). */
  enabled: boolean;
  url?: string;
  events: readonly string[];
  secret?: string;
}

/** How a destination is sent now. */
export interface DeliveryTarget {
  url: string;
  secret: string | null;
  headers: Readonly<Record<string, string>> | null;
}

export interface WebhookDirectory {
  /**
   * Loads the webhooks of the envelopes' numbers and answers, synchronously (inside the outbox's
   * transaction), which destinations want each of them: the configuration as of this call.
   */
  destinationsFor(envelopes: readonly Envelope[]): Promise<(envelope: Envelope) => string[]>;
  /** The destination as configured now, or null when no webhook has it any more. */
  resolve(destination: string): Promise<DeliveryTarget | null>;
  listWebhooks(phoneNumber: string): Promise<WebhookConfig[]>;
  /** Replaces a number's webhooks; returns the destinations that are no longer configured. */
  replaceWebhooks(phoneNumber: string, webhooks: readonly WebhookConfig[]): Promise<string[]>;
  /** Drops what is cached for a number whose rows were deleted or changed (by any node). */
  forget(phoneNumber: string): void;
  /** Drops everything cached (changes by other nodes may have gone unheard). */
  forgetAll(): void;
}

interface NumberWebhooks {
  hooks: WebhookConfig[];
  /** Each hook's destination key, made once rather than per event. */
  keys: string[];
}

export function createWebhookDirectory(
  outbox: Pick<Outbox, "listWebhooks" | "replaceWebhooks">,
  operator: OperatorWebhook,
): WebhookDirectory {
  const cache = new Map<string, NumberWebhooks>();
  /**
   * Bumped when a number's rows change: a read that began before is not cached (it may have read
   * the rows as they were).
   */
  const generations = new Map<string, number>();
  /** Bumped by `forgetAll`: no read that began before it is cached. */
  let resets = 0;
  const operatorKey = operator.url === undefined ? null : globalDestination(operator.url);
  const operatorTarget: DeliveryTarget | null = operator.url === undefined
    ? null
    : { url: operator.url, secret: operator.secret ?? null, headers: null };

  function invalidate(phoneNumber: string): void {
    cache.delete(phoneNumber);
    generations.set(phoneNumber, (generations.get(phoneNumber) ?? 0) + 1);
  }

  async function webhooksOf(phoneNumber: string): Promise<NumberWebhooks> {
    const cached = cache.get(phoneNumber);
    if (cached) return cached;
    const generation = generations.get(phoneNumber);
    const reset = resets;
    const hooks = await outbox.listWebhooks(phoneNumber);
    const found = { hooks, keys: hooks.map((hook) => numberDestination(phoneNumber, hook.url)) };
    if (generations.get(phoneNumber) === generation && resets === reset) {
      cache.set(phoneNumber, found);
    }
    return found;
  }

  function wanting(envelope: Envelope, number: NumberWebhooks): string[] {
    const found: string[] = [];
    if (operatorKey && wantsEvent(operator.events, envelope.event)) found.push(operatorKey);
    const { hooks, keys } = number;
    for (let i = 0; i < hooks.length; i++) {
      if (wantsEvent(hooks[i].events, envelope.event)) found.push(keys[i]);
    }
    return found;
  }

  const none = () => [];

  return {
    async destinationsFor(envelopes) {
      if (!operator.enabled) return none;
      // Almost always one number (a session's burst, one inbound event).
      const first = envelopes[0]?.session;
      if (envelopes.every((envelope) => envelope.session === first)) {
        const number = first === undefined ? { hooks: [], keys: [] } : await webhooksOf(first);
        return (envelope) => wanting(envelope, number);
      }
      const numbers = new Map<string, NumberWebhooks>();
      for (const { session } of envelopes) {
        if (!numbers.has(session)) numbers.set(session, await webhooksOf(session));
      }
      return (envelope) => wanting(envelope, numbers.get(envelope.session)!);
    },
    async resolve(destination) {
      const parsed = parseDestination(destination);
      if (!parsed) return null;
      if (parsed.phoneNumber === null) return destination === operatorKey ? operatorTarget : null;
      const hook = (await webhooksOf(parsed.phoneNumber)).hooks.find((h) => h.url === parsed.url);
      return hook
        ? { url: hook.url, secret: hook.secret ?? null, headers: hook.headers ?? null }
        : null;
    },
    async listWebhooks(phoneNumber) {
      return (await webhooksOf(phoneNumber)).hooks;
    },
    async replaceWebhooks(phoneNumber, webhooks) {
      const before = (await webhooksOf(phoneNumber)).keys;
      invalidate(phoneNumber);
      try {
        await outbox.replaceWebhooks(phoneNumber, webhooks);
      } finally {
        invalidate(phoneNumber);
      }
      const kept = new Set((await webhooksOf(phoneNumber)).keys);
      return before.filter((key) => !kept.has(key));
    },
    forget(phoneNumber) {
      invalidate(phoneNumber);
    },
    forgetAll() {
      cache.clear();
      resets++;
    },
  };
}
