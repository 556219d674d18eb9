/**
 * @module
 * The simulator's chatter (`POST /simulator/chatter`): a contact (in a group, a member) writes to
 * the phone every `everyMs` for `durationMs`, by itself inside the session's Worker, so a load of
 * incoming messages costs the caller one request instead of one per message (`bench/events_scale.ts`
 * drives a thousand numbers this way). Each text says which it is and when it was made
 * (`Chatter 3 of 10 at 2026-12-02T15:00:00.123Z`): a receiver reads the latency from it, since a
 * message's own `timestamp` has whole seconds only. Ticks are scheduled from the start time, so a
 * late tick does not push the later ones back; `startAt` sets when the first comes, so that the
 * chatters of many numbers, started one request after the other, begin together. A session runs
 * one chatter at a time: a new one replaces it, `durationMs: 0` ends it, and the engine's stop, a
 * logout or a dropped connection
 * end it too (its timers are the engine's).
 */
import type { SimulatorAction } from "../../engine.ts";

export type ChatterAction = Extract<SimulatorAction, { type: "chatter" }>;

export interface SimulatorChatterDeps {
  /** Runs `fn` after `ms` unless the engine stops, logs out or reconnects first. */
  later(fn: () => void, ms: number): void;
  /** One message of the chatter arrives; false when it cannot (the session is not WORKING). */
  write(chatId: string, from: string | undefined, text: string): boolean;
}

export function createSimulatorChatter(deps: SimulatorChatterDeps) {
  /** Bumped by every new chatter: the ticks of an older one find it changed and stop. */
  let generation = 0;

  /** Starts (or, with `durationMs` 0, only ends) the session's chatter; returns how many it makes. */
  return function chatter(action: ChatterAction): number {
    const mine = ++generation;
    const count = Math.floor(action.durationMs / action.everyMs);
    const label = action.text ?? "Chatter";
    // The first message at `startAt` when given (a Unix time: the callers share a clock), which
    // makes the ticks' origin `everyMs` before it.
    const startedAt = performance.now() +
      (action.startAt === undefined ? 0 : action.startAt - Date.now() - action.everyMs);
    let made = 0;
    function tick(): void {
      if (mine !== generation) return;
      made++;
      const text = `${label} ${made} of ${count} at ${new Date().toISOString()}`;
      if (!deps.write(action.chatId, action.from, text) || made >= count) return;
      deps.later(tick, Math.max(0, startedAt + (made + 1) * action.everyMs - performance.now()));
    }
    if (count > 0) deps.later(tick, Math.max(0, startedAt + action.everyMs - performance.now()));
    return count;
  };
}
