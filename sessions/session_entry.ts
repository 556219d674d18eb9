/**
 * @module
 * What the session manager knows of one number while the server runs: its status and the last
 * three, its Worker, whether it should run, its crash record and pending restart, its QR, and the
 * link check of the current launch. The manager's parts (status machine, lifecycle, calls,
 * restarts) share these entries; the store keeps what must outlive the process.
 */
import type { EngineName, Me, SessionStatus } from "./engine.ts";
import type { StatusChange } from "./session_events.ts";
import type { WorkerHost } from "./worker_host.ts";

export interface SessionEntry {
  phoneNumber: string;
  engine: EngineName;
  status: SessionStatus;
  reason: string | null;
  statuses: StatusChange[];
  me: Me | null;
  /** What the current QR encodes. */
  qr: string | null;
  /** The current QR drawn as a PNG data URL, once somebody asked for it. */
  qrImage: { value: string; dataUrl: Promise<string> } | null;
  host: WorkerHost | null;
  /** Whether the session should be running (started and not stopped). */
  wanted: boolean;
  crashes: number[];
  consecutiveTimeouts: number;
  restartTimer: ReturnType<typeof setTimeout> | null;
  waiters: Set<() => void>;
  /** Settles once the engine of the latest launch has started, or failed to. */
  starting: Promise<void>;
  /** The linked account of the current launch is this number's: its events may leave. */
  verified: boolean;
  /** Settles once the Worker of a refused link has logged out and ended (see `retire`). */
  retiring: Promise<void>;
  /** The simulator's `linkAs` of the start that launched it. */
  linkAs: string | null;
  /**
   * The waha engine: when WAHA made the last `session.status` post applied (its envelope's
   * `timestamp`, WAHA's clock), so that an older one arriving later is not applied over it.
   */
  wahaStatusAt: number | null;
}

/** A number that has not run since the server started: STOPPED, no Worker. */
export function createEntry(phoneNumber: string, engine: EngineName): SessionEntry {
  return {
    phoneNumber,
    engine,
    status: "STOPPED",
    reason: null,
    statuses: [],
    me: null,
    qr: null,
    qrImage: null,
    host: null,
    wanted: false,
    crashes: [],
    consecutiveTimeouts: 0,
    restartTimer: null,
    waiters: new Set(),
    starting: Promise.resolve(),
    verified: false,
    retiring: Promise.resolve(),
    linkAs: null,
    wahaStatusAt: null,
  };
}
