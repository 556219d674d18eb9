/**
 * @module
 * Where events go and how each destination is sent, as configured now: the operator's
 * `WEBHOOK_URL` (from the environment) and each number's webhooks (the `webhooks` table, cached
 * per number until they are replaced or the number is forgotten). The pipeline asks it which
 * destinations want an event; the dispatcher asks it before every attempt for the destination's
 * URL, secret and headers, so a retry is sent as the webhook is configured at that moment, and a
 * destination that nobody configures any more is known to be gone.
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
  /** The keys of the destinations that want the envelope. */
  destinationsFor(envelope: Envelope): string[];
  /** The destination as configured now, or null when no webhook has it any more. */
  resolve(destination: string): DeliveryTarget | null;
  listWebhooks(phoneNumber: string): WebhookConfig[];
  /** Replaces a number's webhooks; returns the destinations that are no longer configured. */
  replaceWebhooks(phoneNumber: string, webhooks: readonly WebhookConfig[]): string[];
  /** Drops what is cached for a number whose rows were deleted. */
  forget(phoneNumber: string): void;
}

interface NumberWebhooks {
  hooks: WebhookConfig[];
  /** Each hook's destination key, made once rather than per event. */
  keys: string[];
}

export function createWebhookDirectory(
  outbox: Outbox,
  operator: OperatorWebhook,
): WebhookDirectory {
  const cache = new Map<string, NumberWebhooks>();
  const operatorKey = operator.url === undefined ? null : globalDestination(operator.url);
  const operatorTarget: DeliveryTarget | null = operator.url === undefined
    ? null
    : { url: operator.url, secret: operator.secret ?? null, headers: null };

  function webhooksOf(phoneNumber: string): NumberWebhooks {
    let found = cache.get(phoneNumber);
    if (!found) {
      const hooks = outbox.listWebhooks(phoneNumber);
      found = { hooks, keys: hooks.map((hook) => numberDestination(phoneNumber, hook.url)) };
      cache.set(phoneNumber, found);
    }
    return found;
  }

  return {
    destinationsFor(envelope) {
      if (!operator.enabled) return [];
      const found: string[] = [];
      if (operatorKey && wantsEvent(operator.events, envelope.event)) found.push(operatorKey);
      const { hooks, keys } = webhooksOf(envelope.session);
      for (let i = 0; i < hooks.length; i++) {
        if (wantsEvent(hooks[i].events, envelope.event)) found.push(keys[i]);
      }
      return found;
    },
    resolve(destination) {
      const parsed = parseDestination(destination);
      if (!parsed) return null;
      if (parsed.phoneNumber === null) return destination === operatorKey ? operatorTarget : null;
      const hook = webhooksOf(parsed.phoneNumber).hooks.find((h) => h.url === parsed.url);
      return hook
        ? { url: hook.url, secret: hook.secret ?? null, headers: hook.headers ?? null }
        : null;
    },
    listWebhooks(phoneNumber) {
      return webhooksOf(phoneNumber).hooks;
    },
    replaceWebhooks(phoneNumber, webhooks) {
      const before = webhooksOf(phoneNumber).keys;
      outbox.replaceWebhooks(phoneNumber, webhooks);
      cache.delete(phoneNumber);
      const kept = new Set(webhooksOf(phoneNumber).keys);
      return before.filter((key) => !kept.has(key));
    },
    forget(phoneNumber) {
      cache.delete(phoneNumber);
    },
  };
}
