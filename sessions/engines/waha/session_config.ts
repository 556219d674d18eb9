/**
 * @module
 * The configuration the waha engine gives its WAHA session: webhooks to our inbound endpoints
 * (`message` and `message.ack` to `/webhook/message`, `session.status` to
 * `/webhook/state-change`), authenticated with our webhook key in `X-Api-Key` and signed with `WEBHOOK_HMAC_SECRET` (WAHA's `hmac.key`).
 */
import type { WahaEngineOptions } from "../../engine.ts";
import type { SessionConfig, WebhookConfig } from "../../../waha/schemas.ts";

export function sessionConfigFor(options: WahaEngineOptions): SessionConfig {
  const hook = options.webhook;
  if (!hook) return {};
  const common = {
    customHeaders: [{ name: "X-Api-Key", value: hook.apiKey }],
    ...(hook.hmacKey ? { hmac: { key: hook.hmacKey } } : {}),
  };
  const webhooks: WebhookConfig[] = [
    { url: hook.messageUrl, events: ["message", "message.ack"], ...common },
    { url: hook.statusUrl, events: ["session.status"], ...common },
  ];
  return { webhooks };
}
