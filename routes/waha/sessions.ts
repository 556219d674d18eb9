/**
 * @module
 * WAHA's sessions and auth endpoints (`/api/sessions…`, `/api/{session}/auth/…`) over the session
 * manager, with the same manager calls and guards as the contract's session routes: a WAHA
 * session is one of our numbers, its status is the manager's (`CONFLICT`, which WAHA lacks, is
 * `FAILED`). A session is created by starting it (the manager claims the number for the caller).
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError, badRequest } from "../../errors.ts";
import type { EventsApi } from "../../events/pipeline.ts";
import type { AuthGuards } from "../../middleware/guards.ts";
import type { AppEnv, Principal } from "../../middleware/principal.ts";
import type { SessionInfo as OurSessionInfo, SessionManager } from "../../sessions/manager.ts";
import { parsePhone } from "../../sessions/phone_number.ts";
import {
  Base64File,
  ListSessionsQuery,
  MeInfo,
  PairingCodeResponse,
  QRCodeQuery,
  QRCodeValue,
  RequestCodeRequest,
  SessionCreateRequest,
  SessionDTO,
  SessionInfo,
} from "../../waha/schemas.ts";
import { WahaErrorBody } from "../../waha/dialect.ts";
import { createRouter } from "../router.ts";
import { jsonResponse, SECURED } from "../schemas.ts";
import { removeSession } from "../sessions.ts";
import { inWahaShape, sessionNumber, SessionPathParams, WAHA_TAG, wahaRoute } from "./dialect.ts";

const tags = [WAHA_TAG];

const listRoute = wahaRoute({
  method: "get",
  path: "/sessions",
  tags,
  summary: "WAHA: list sessions (`all=true` includes the stopped ones)",
  security: SECURED,
  request: { query: ListSessionsQuery },
  responses: { 200: jsonResponse(z.array(SessionInfo), "The sessions") },
});

const createSessionRoute = wahaRoute({
  method: "post",
  path: "/sessions",
  tags,
  summary: "WAHA: create a session: `name` is the phone number; it is started at once",
  security: SECURED,
  request: {
    body: { required: true, content: { "application/json": { schema: SessionCreateRequest } } },
  },
  responses: {
    201: jsonResponse(SessionDTO, "Created (and starting)"),
    422: jsonResponse(WahaErrorBody, "The session exists already"),
  },
});

const getRoute = wahaRoute({
  method: "get",
  path: "/sessions/{phoneNumber}",
  tags,
  summary: "WAHA: a session's information",
  security: SECURED,
  request: { params: SessionPathParams },
  responses: { 200: jsonResponse(SessionInfo, "The session") },
});

const meRoute = wahaRoute({
  method: "get",
  path: "/sessions/{phoneNumber}/me",
  tags,
  summary: "WAHA: the linked account (null until linked)",
  security: SECURED,
  request: { params: SessionPathParams },
  responses: { 200: jsonResponse(MeInfo.nullable(), "The account") },
});

const lifecycle = (action: string, summary: string) =>
  wahaRoute({
    method: "post",
    path: `/sessions/{phoneNumber}/${action}`,
    tags,
    summary: `WAHA: ${summary}`,
    security: SECURED,
    request: { params: SessionPathParams },
    responses: { 201: jsonResponse(SessionDTO, "The session after it") },
  });

const startRoute = lifecycle("start", "start a known session");
const stopRoute = lifecycle("stop", "stop the session, keeping its login");
const restartRoute = lifecycle("restart", "restart the session");
const logoutRoute = lifecycle("logout", "unlink the device and delete its login");

const deleteRoute = wahaRoute({
  method: "delete",
  path: "/sessions/{phoneNumber}",
  tags,
  summary: "WAHA: admin: log out, delete the session's data and free the number",
  security: [{ apiKey: [] }],
  request: { params: SessionPathParams },
  responses: { 200: { description: "Deleted (no body)" } },
});

const qrRoute = wahaRoute({
  method: "get",
  path: "/{phoneNumber}/auth/qr",
  tags,
  summary: "WAHA: the QR to scan: a PNG, `{ mimetype, data }` when JSON is accepted, or " +
    "`{ value }` with `format=raw`",
  security: SECURED,
  request: { params: SessionPathParams, query: QRCodeQuery },
  responses: {
    200: {
      description: "The QR",
      content: {
        "image/png": { schema: z.string().openapi({ type: "string", format: "binary" }) },
        "application/json": { schema: z.union([Base64File, QRCodeValue]) },
      },
    },
  },
});

const requestCodeRoute = wahaRoute({
  method: "post",
  path: "/{phoneNumber}/auth/request-code",
  tags,
  summary: "WAHA: a pairing code to type on the phone instead of scanning",
  security: SECURED,
  request: {
    params: SessionPathParams,
    body: { required: true, content: { "application/json": { schema: RequestCodeRequest } } },
  },
  responses: { 201: jsonResponse(PairingCodeResponse, "The code") },
});

/** WAHA's statuses are ours but `CONFLICT` (WhatsApp opened elsewhere), which WAHA calls FAILED. */
function wahaStatus(status: OurSessionInfo["status"]): SessionDTO["status"] {
  return status === "CONFLICT" ? "FAILED" : status;
}

export function toWahaSession(info: OurSessionInfo): SessionInfo {
  return {
    name: info.phoneNumber,
    status: wahaStatus(info.status),
    config: null,
    me: info.me,
  };
}

/** WAHA's answer when JSON is asked for rather than the image (`Accept: application/json`). */
function acceptsJson(accept = ""): boolean {
  return accept.split(",").some((part) =>
    part.split(";")[0].trim().toLowerCase() === "application/json"
  );
}

export function createWahaSessionRoutes(
  deps: { manager: SessionManager; guards: AuthGuards; events?: Pick<EventsApi, "forgetNumber"> },
) {
  const { manager, guards } = deps;
  const owned = [
    getRoute,
    meRoute,
    startRoute,
    stopRoute,
    restartRoute,
    logoutRoute,
    qrRoute,
    requestCodeRoute,
  ];
  const all = [listRoute, createSessionRoute, deleteRoute, ...owned];
  const phoneOf = (c: Context<AppEnv>) => sessionNumber(c.req.param("phoneNumber"));
  /** Whether the number is a session the caller may see (`403` for another account's). */
  const known = async (phoneNumber: string, caller: Principal) => {
    try {
      await manager.info(phoneNumber, caller);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false;
      throw error;
    }
  };
  const answer = async (c: Context<AppEnv>, phoneNumber: string) =>
    c.json(toWahaSession(await manager.info(phoneNumber, c.get("principal"))), 201);

  return inWahaShape(createRouter(), ...all)
    .guard(guards.requireAuth, listRoute, createSessionRoute)
    .guard(guards.requireSingleAccountProtected(), ...owned)
    .guard(guards.requireAdmin, deleteRoute)
    .openapi(listRoute, async (c) => {
      const principal = c.get("principal");
      const filter = principal.kind === "admin" ? {} : { ownerAccountId: principal.accountId! };
      const all = ["true", "1", "yes"].includes(c.req.valid("query").all ?? "");
      const sessions = (await manager.list(filter))
        .filter((info) => all || info.status !== "STOPPED")
        .map(toWahaSession);
      return c.json(sessions, 200);
    })
    .openapi(createSessionRoute, async (c) => {
      const { name } = c.req.valid("json");
      const phone = name === undefined ? null : parsePhone(name);
      if (!phone?.ok) {
        throw badRequest('Invalid body field "name": the phone number the session is for');
      }
      const caller = c.get("principal");
      if (await known(phone.digits, caller)) {
        return c.json({
          statusCode: 422,
          message: `Session "${phone.digits}" already exists: start it with ` +
            `POST /api/sessions/${phone.digits}/start`,
          error: "Unprocessable Entity",
        }, 422);
      }
      await manager.start(phone.digits, { caller });
      return answer(c, phone.digits);
    })
    .openapi(getRoute, async (c) => {
      const info = await manager.info(phoneOf(c), c.get("principal"));
      return c.json(toWahaSession(info), 200);
    })
    .openapi(meRoute, async (c) => {
      return c.json((await manager.info(phoneOf(c), c.get("principal"))).me, 200);
    })
    .openapi(startRoute, async (c) => {
      const phoneNumber = phoneOf(c);
      const caller = c.get("principal");
      // WAHA starts only a session it knows (404 otherwise): a new number is created first.
      await manager.info(phoneNumber, caller);
      await manager.start(phoneNumber, { caller });
      return answer(c, phoneNumber);
    })
    .openapi(stopRoute, async (c) => {
      await manager.stop(phoneOf(c), c.get("principal"));
      return answer(c, phoneOf(c));
    })
    .openapi(restartRoute, async (c) => {
      await manager.restart(phoneOf(c), c.get("principal"));
      return answer(c, phoneOf(c));
    })
    .openapi(logoutRoute, async (c) => {
      await manager.logout(phoneOf(c), c.get("principal"));
      return answer(c, phoneOf(c));
    })
    .openapi(deleteRoute, async (c) => {
      await removeSession(deps, phoneOf(c));
      return c.body(null, 200);
    })
    .openapi(qrRoute, async (c) => {
      const phoneNumber = phoneOf(c);
      const caller = c.get("principal");
      // A QR links a phone to the account: no cache keeps it.
      const headers = { "Cache-Control": "no-store", Vary: "Accept" };
      if (c.req.valid("query").format === "raw") {
        const value = await manager.getQr(phoneNumber, { caller, raw: true });
        return c.json({ value }, 200, headers);
      }
      const dataUrl = await manager.getQr(phoneNumber, { caller });
      const data = dataUrl.slice(dataUrl.indexOf(",") + 1);
      if (acceptsJson(c.req.header("accept"))) {
        return c.json({ mimetype: "image/png", data }, 200, headers);
      }
      return c.body(Uint8Array.fromBase64(data), 200, { ...headers, "Content-Type": "image/png" });
    })
    .openapi(requestCodeRoute, async (c) => {
      const { phoneNumber, method } = c.req.valid("json");
      if (method) {
        throw new ApiError(
          "NOT_IMPLEMENTED",
          `Codes by "${method.slice(0, 16)}" are not supported: leave out "method" for a ` +
            "pairing code",
        );
      }
      const phone = parsePhone(phoneNumber);
      if (!phone.ok) throw badRequest(`Invalid body field "phoneNumber": ${phone.problem}`);
      const code = await manager.requestPairingCode(phoneOf(c), {
        phoneForCode: phone.digits,
        caller: c.get("principal"),
      });
      return c.json({ code }, 201);
    });
}
