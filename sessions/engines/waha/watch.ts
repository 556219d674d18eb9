/**
 * @module
 * How the waha engine follows its WAHA session: it creates (or updates) and starts the session,
 * then asks WAHA for its status every `pollMs` until the session is WORKING, and every
 * `WORKING_POLL_FACTOR` × `pollMs` after (WAHA's `session.status` webhooks drive the session's
 * status on the main thread too; asking covers a webhook that never arrives, a WAHA that went
 * away, and gives the QR, which WAHA only answers when asked). Each ask costs this Worker ~3 ms of
 * CPU: asking every 2 s kept 100 linked numbers at 12 % of a core (bench/README.md). A QR is
 * reported each time it changes, WORKING with the linked account once; a WAHA that cannot be
 * reached `FAILURES_BEFORE_FATAL` times in a row, or a session WAHA reports FAILED, STOPPED or
 * gone, is `fatal` (a crash, for the restart policy).
 */
import type { EngineEventSink, WahaEngineOptions } from "../../engine.ts";
import type { QRCodeValue, SessionInfo } from "../../../waha/schemas.ts";
import type { WahaClient } from "./client.ts";
import { sessionConfigFor } from "./session_config.ts";
import { after, type Timer } from "../../worker_timers.ts";

const FAILURES_BEFORE_FATAL = 3;
/** How many times longer the asks are apart once the session is WORKING. */
export const WORKING_POLL_FACTOR = 15;

export interface SessionWatch {
  /** Stops asking (the engine stops). */
  stop(): void;
}

/** Creates or updates WAHA's session `name` with our webhooks, and starts it. */
export async function startWahaSession(
  client: WahaClient,
  name: string,
  options: WahaEngineOptions,
): Promise<void> {
  const config = sessionConfigFor(options);
  const exists = await client.call({ method: "GET", path: `/api/sessions/${name}` }).then(
    () => true,
    (error) => {
      if ((error as { kind?: string }).kind === "NOT_FOUND") return false;
      throw error;
    },
  );
  if (!exists) {
    await client.call({
      method: "POST",
      path: "/api/sessions",
      body: { name, config, start: true },
    });
    return;
  }
  // WAHA updates an existing session with PUT (restarting it when it runs), then starts it.
  await client.call({ method: "PUT", path: `/api/sessions/${name}`, body: { config } });
  await client.call({ method: "POST", path: `/api/sessions/${name}/start` });
}

export function watchWahaSession(
  client: WahaClient,
  name: string,
  pollMs: number,
  emit: EngineEventSink,
): SessionWatch {
  let stopped = false;
  let timer: Timer | null = null;
  let lastQr: string | null = null;
  let working = false;
  let failures = 0;

  const fatal = (reason: string) => {
    stopped = true;
    emit({ type: "fatal", reason });
  };

  async function look(): Promise<void> {
    const info = await client.call<SessionInfo>({ method: "GET", path: `/api/sessions/${name}` });
    failures = 0;
    switch (info.status) {
      case "SCAN_QR_CODE": {
        working = false;
        const qr = await client.call<QRCodeValue>({
          method: "GET",
          path: `/api/${name}/auth/qr`,
          query: { format: "raw" },
        });
        // The phone may have scanned while the QR was on its way (WAHA's session.status webhook
        // then made the number CONNECTED): a QR reported now would take it back.
        const still = await client.call<SessionInfo>({
          method: "GET",
          path: `/api/sessions/${name}`,
        });
        if (still.status !== "SCAN_QR_CODE") return;
        if (!stopped && qr.value && qr.value !== lastQr) {
          lastQr = qr.value;
          emit({ type: "qr", value: qr.value });
        }
        return;
      }
      case "WORKING":
        if (!working && info.me) {
          working = true;
          lastQr = null;
          emit({
            type: "status",
            status: "WORKING",
            me: { id: info.me.id, pushName: info.me.pushName ?? "" },
          });
        }
        return;
      case "STARTING":
        return;
      case "FAILED":
      case "STOPPED":
        fatal(`The WAHA server reports the session ${info.status}`);
        return;
    }
  }

  async function tick(): Promise<void> {
    timer = null;
    if (stopped) return;
    try {
      await look();
    } catch (error) {
      const kind = (error as { kind?: string }).kind;
      if (kind === "NOT_FOUND") {
        fatal("The session is gone from the WAHA server");
      } else if (!stopped && ++failures >= FAILURES_BEFORE_FATAL) {
        fatal(`${(error as Error)?.message ?? error} (${failures} times in a row)`);
      }
    }
    if (!stopped) timer = after(working ? pollMs * WORKING_POLL_FACTOR : pollMs, tick);
  }

  timer = after(0, tick);
  return {
    stop() {
      stopped = true;
      timer?.cancel();
      timer = null;
    },
  };
}
