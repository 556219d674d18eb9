/**
 * @module
 * Session lifecycle routes: start, stop, restart, logout, QR, pairing code, state, the caller's
 * sessions, and the admin's delete. They talk only to the session manager.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { WAHA_SERVER_NAME } from "../config.ts";
import { forbidden } from "../errors.ts";
import type { EventsApi } from "../events/pipeline.ts";
import type { AuthGuards } from "../middleware/guards.ts";
import type { AppEnv } from "../middleware/principal.ts";
import { SESSION_STATUSES } from "../sessions/engine.ts";
import type { SessionInfo, SessionManager } from "../sessions/manager.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  IdempotencyHeaders,
  jsonResponse,
  PhoneNumber,
  PhoneParams,
  SECURED,
  SessionNumber,
  SuccessSchema,
} from "./schemas.ts";

const StatusSchema = z.enum(SESSION_STATUSES)
  .openapi({ description: "The WAHA-style status, finer than `state`" });
const StateSchema = z.enum(["CONNECTED", "DISCONNECTED", "AUTHENTICATING", "CONFLICT"]);
const MeSchema = z.object({ id: z.string(), pushName: z.string() }).nullable();
const NodeField = z.string().nullable().optional().openapi({
  description:
    "In a cluster: the node that runs it (null: it runs nowhere); absent on a single node",
});

const LoginSavedAtField = z.iso.datetime().nullable().optional().openapi({
  description: "In a cluster, for whatsapp-web.js: when the login was last saved in the shared " +
    "store (what another node starts from without a QR); null: not saved yet. Absent otherwise",
});

const ProxyField = z.string().nullable().openapi({
  description: "The number's own proxy, its password shown as `***`; null: none of its own " +
    "(the server's `PROXY_URL` applies, when set)",
  example: "http://user:***@proxy.example.com:3128",
});

const CallsSettingSchema = z.object({
  autoReject: z.boolean().openapi({ description: "Reject every incoming call at once" }),
  message: z.string().trim().min(1).max(4096).nullable().openapi({
    description: "Sent to the caller after a rejected call; null: nothing is sent",
    example: "Sorry, this number takes no calls: please write",
  }),
}).openapi("CallsSetting");

const CallsField = CallsSettingSchema.nullable().openapi({
  description: "The number's own call setting; null: none of its own (the server's " +
    "`CALLS_AUTO_REJECT` and `CALLS_AUTO_REJECT_MESSAGE` apply)",
});

const EngineSchema = z.enum(["wwebjs", "simulator", "waha"]);

const SessionStateSchema = z.object({
  state: StateSchema,
  status: StatusSchema,
  reason: z.string().nullable().openapi({ description: "Why the session is in this status" }),
  engine: EngineSchema,
  me: MeSchema,
  node: NodeField,
  loginSavedAt: LoginSavedAtField,
  proxy: ProxyField,
  calls: CallsField,
}).openapi("SessionState");

const SessionSchema = z.object({
  phoneNumber: PhoneNumber,
  engine: EngineSchema,
  state: StateSchema,
  status: StatusSchema,
  reason: z.string().nullable(),
  me: MeSchema,
  node: NodeField,
  loginSavedAt: LoginSavedAtField,
  proxy: ProxyField,
  calls: CallsField,
}).openapi("Session");

const StartBodySchema = z.object({
  engine: EngineSchema.optional().openapi({
    description: "The engine for this session; the server's WA_ENGINE by default",
  }),
  node: z.string().min(1).optional().openapi({
    description: "Admin only: the node of the cluster to run it on (default: the live node " +
      "with the most free capacity)",
  }),
  simulator: z.object({
    linkAs: SessionNumber.optional().openapi({
      description: 'The number whose phone "scans" the QR (default: the session\'s own). ' +
        "Another number's makes the session FAILED, as a wrong phone would",
      example: "4915550009999",
    }),
  }).optional().openapi({
    description: "Simulator engine only (400 for another engine): how its phone links",
  }),
  wahaServer: z.string().regex(WAHA_SERVER_NAME).optional().openapi({
    description: "waha engine only (400 for another engine): the name of the WAHA server, one of " +
      "the server's `WAHA_URLS`, that runs this number (default `WAHA_URL`), kept with the session",
    example: "worker-2",
  }),
  proxy: z.string().max(2048).nullable().optional().openapi({
    description: "The proxy this number's Chromium sends WhatsApp's traffic through, kept with " +
      "the session: `http://[user:password@]host:port`, `https://…`, or `socks5://host:port` " +
      "(no credentials: Chromium cannot authenticate to SOCKS). Only the admin may give a " +
      "private host. null removes it (the server's `PROXY_URL` applies); absent keeps it. A " +
      "running session uses a new proxy from its next start. whatsapp-web.js only (the " +
      "simulator keeps it and sends nothing)",
    example: "http://user:password@proxy.example.com:3128",
  }),
  calls: z.object({
    autoReject: CallsSettingSchema.shape.autoReject,
    message: CallsSettingSchema.shape.message.optional(),
  }).nullable().optional().openapi({
    description: "What this number does with incoming calls, kept with the session: " +
      "`autoReject` rejects each at once (`call.received`, then `call.rejected`), and `message` " +
      "(when given) is then sent to the caller. null removes it (the server's " +
      "`CALLS_AUTO_REJECT` applies); absent keeps it. A running session uses it from its next start",
  }),
}).openapi("StartSession");

const PairingBodySchema = z.object({
  phoneNumber: SessionNumber.optional().openapi({
    description: "The phone that will type the code; the session's number by default",
  }),
}).openapi("PairingCodeRequest");

const LIFECYCLE_ERRORS = errorResponses("BAD_REQUEST", "FORBIDDEN", "NOT_FOUND", "TIMEOUT");

const lifecycle = (action: string, summary: string) =>
  createRoute({
    method: "post",
    path: `/{phoneNumber}/${action}`,
    tags: ["Sessions"],
    summary,
    security: SECURED,
    request: { params: PhoneParams },
    responses: { 200: jsonResponse(SuccessSchema, "Done"), ...LIFECYCLE_ERRORS },
  });

const startRoute = createRoute({
  method: "post",
  path: "/{phoneNumber}/start",
  tags: ["Sessions"],
  summary: "Start the session (shows a QR until linked)",
  security: SECURED,
  request: {
    params: PhoneParams,
    headers: IdempotencyHeaders,
    // Optional: the validator checks it when one is sent.
    body: { required: false, content: { "application/json": { schema: StartBodySchema } } },
  },
  responses: { 200: jsonResponse(SuccessSchema, "Done"), ...LIFECYCLE_ERRORS },
});
const stopRoute = lifecycle("stop", "Stop the session, keeping its login");
const restartRoute = lifecycle("restart", "Restart the session");
const logoutRoute = lifecycle("logout", "Unlink the device and delete its login");

const qrRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/qr",
  tags: ["Sessions"],
  summary: "The QR code to scan with WhatsApp",
  description: "JSON with a PNG data URL; the PNG itself with `?format=image` or an `Accept` " +
    "header that asks for `image/png` (as WAHA's `GET /api/{session}/auth/qr`)",
  security: SECURED,
  request: {
    params: PhoneParams,
    query: z.object({
      format: z.enum(["image"]).optional().openapi({
        description: "`image`: answer the PNG itself instead of JSON",
      }),
    }),
  },
  responses: {
    200: {
      description: "A PNG data URL in JSON, or the PNG",
      content: {
        "application/json": {
          schema: z.object({
            qrCode: z.string().openapi({ example: "data:image/png;base64,iVBORw0KGgo..." }),
          }).openapi("QrCode"),
        },
        "image/png": { schema: z.string().openapi({ type: "string", format: "binary" }) },
      },
    },
    ...errorResponses("BAD_REQUEST", "FORBIDDEN", "NOT_FOUND", "CLIENT_NOT_READY"),
  },
});

const pairingRoute = createRoute({
  method: "post",
  path: "/{phoneNumber}/pairing-code",
  tags: ["Sessions"],
  summary: "A code to type on the phone instead of scanning",
  security: SECURED,
  request: {
    params: PhoneParams,
    body: { required: false, content: { "application/json": { schema: PairingBodySchema } } },
  },
  responses: {
    200: jsonResponse(
      z.object({ code: z.string().openapi({ example: "ABCD1234" }) }).openapi("PairingCode"),
      "The 8-character code",
    ),
    ...errorResponses(
      "BAD_REQUEST",
      "FORBIDDEN",
      "NOT_FOUND",
      "CLIENT_NOT_READY",
      "NOT_IMPLEMENTED",
      "TIMEOUT",
    ),
  },
});

const stateRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/state",
  tags: ["Sessions"],
  summary: "The session's connection state",
  security: SECURED,
  request: { params: PhoneParams },
  responses: {
    200: jsonResponse(SessionStateSchema, "The state"),
    ...errorResponses("BAD_REQUEST", "FORBIDDEN", "NOT_FOUND"),
  },
});

const listRoute = createRoute({
  method: "get",
  path: "/sessions",
  tags: ["Sessions"],
  summary: "The caller's sessions with their status",
  security: SECURED,
  responses: {
    200: jsonResponse(z.object({ sessions: z.array(SessionSchema) }), "The sessions"),
    ...errorResponses(),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/{phoneNumber}",
  tags: ["Sessions"],
  summary: "Admin: log out, delete the session's data and free the number",
  security: [{ apiKey: [] }],
  request: { params: PhoneParams },
  responses: {
    200: jsonResponse(SuccessSchema, "Deleted"),
    ...errorResponses("BAD_REQUEST", "NOT_FOUND"),
  },
});

/** `?format=image`, or an `Accept` that names PNG (or any image) before JSON. */
function wantsPng(format: "image" | undefined, accept = ""): boolean {
  if (format === "image") return true;
  const types = accept.split(",").map((part) => part.split(";")[0].trim().toLowerCase());
  const image = types.findIndex((type) => type === "image/png" || type === "image/*");
  const json = types.indexOf("application/json");
  return image >= 0 && (json < 0 || image < json);
}

function toSession(info: SessionInfo) {
  return {
    phoneNumber: info.phoneNumber,
    engine: info.engine,
    state: info.state,
    status: info.status,
    reason: info.reason,
    me: info.me,
    node: info.node,
    loginSavedAt: info.loginSavedAt,
    proxy: info.proxy,
    calls: info.calls,
  };
}

/**
 * Deletes a known session: logs out, deletes its data and frees the number (for the contract's
 * `DELETE /{phoneNumber}` and WAHA's `DELETE /api/sessions/{session}`). `404` when unknown.
 */
export async function removeSession(
  deps: { manager: SessionManager; events?: Pick<EventsApi, "forgetNumber"> },
  phoneNumber: string,
): Promise<void> {
  await deps.manager.info(phoneNumber);
  await deps.manager.remove(phoneNumber);
  // A freed number may be claimed by another account: its events and webhooks do not go with it.
  await deps.events?.forgetNumber(phoneNumber);
}

export function createSessionRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; events?: Pick<EventsApi, "forgetNumber"> },
) {
  const { manager, guards } = deps;
  const owned = [stopRoute, restartRoute, logoutRoute, qrRoute, pairingRoute, stateRoute];

  const phoneOf = (c: Context<AppEnv>) => c.req.param("phoneNumber")!;

  return createRouter()
    .guard(guards.requireSingleAccountProtected({ claim: true }), startRoute)
    .guard(guards.requireSingleAccountProtected(), ...owned)
    .guard(guards.requireAuth, listRoute)
    .guard(guards.requireAdmin, deleteRoute)
    .openapi(startRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const { engine, simulator, node, proxy, calls, wahaServer } = c.req.valid("json") ?? {};
      if (node !== undefined && c.get("principal").kind !== "admin") {
        throw forbidden('Only the admin may choose the node: leave out "node"');
      }
      const { alreadyStarted } = await manager.start(phoneNumber, {
        engine,
        caller: c.get("principal"),
        simulator,
        node,
        proxy,
        calls,
        wahaServer,
      });
      const applies = proxy !== undefined || calls !== undefined
        ? "; its new settings apply from its next restart"
        : "";
      return c.json({
        success: true,
        message: alreadyStarted
          ? `Session "${phoneNumber}" is already started${applies}`
          : `Session "${phoneNumber}" is starting`,
      }, 200);
    })
    .openapi(stopRoute, async (c) => {
      const { wasRunning } = await manager.stop(phoneOf(c), c.get("principal"));
      return c.json({
        success: true,
        message: wasRunning
          ? `Session "${phoneOf(c)}" stopped`
          : `Session "${phoneOf(c)}" was not running`,
      }, 200);
    })
    .openapi(restartRoute, async (c) => {
      await manager.restart(phoneOf(c), c.get("principal"));
      return c.json({ success: true, message: `Session "${phoneOf(c)}" is restarting` }, 200);
    })
    .openapi(logoutRoute, async (c) => {
      await manager.logout(phoneOf(c), c.get("principal"));
      return c.json({ success: true, message: `Session "${phoneOf(c)}" logged out` }, 200);
    })
    .openapi(qrRoute, async (c) => {
      const qrCode = await manager.getQr(c.req.valid("param").phoneNumber, {
        caller: c.get("principal"),
      });
      // A QR links a phone to the account: no cache keeps it.
      const headers = { "Cache-Control": "no-store", Vary: "Accept" };
      if (wantsPng(c.req.valid("query").format, c.req.header("accept"))) {
        const png = Uint8Array.fromBase64(qrCode.slice(qrCode.indexOf(",") + 1));
        return c.body(png, 200, { ...headers, "Content-Type": "image/png" });
      }
      return c.json({ qrCode }, 200, headers);
    })
    .openapi(pairingRoute, async (c) => {
      const code = await manager.requestPairingCode(c.req.valid("param").phoneNumber, {
        phoneForCode: (c.req.valid("json") ?? {}).phoneNumber,
        caller: c.get("principal"),
      });
      return c.json({ code }, 200);
    })
    .openapi(stateRoute, async (c) => {
      const info = await manager.info(c.req.valid("param").phoneNumber, c.get("principal"));
      return c.json({
        state: info.state,
        status: info.status,
        reason: info.reason,
        engine: info.engine,
        me: info.me,
        node: info.node,
        loginSavedAt: info.loginSavedAt,
        proxy: info.proxy,
        calls: info.calls,
      }, 200);
    })
    .openapi(listRoute, async (c) => {
      const principal = c.get("principal");
      const filter = principal.kind === "admin" ? {} : { ownerAccountId: principal.accountId! };
      return c.json({ sessions: (await manager.list(filter)).map(toSession) }, 200);
    })
    .openapi(deleteRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      await removeSession(deps, phoneNumber);
      return c.json({ success: true, message: `Session "${phoneNumber}" deleted` }, 200);
    });
}
