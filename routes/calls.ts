/**
 * @module
 * Calls, with WAHA's path and body: reject a call that rings (`POST /{phoneNumber}/calls/reject`
 * with the `from` and `id` of its `call.received` event); `call.rejected` follows. Rejecting every
 * call as it arrives is a setting (`CALLS_AUTO_REJECT`, with `CALLS_AUTO_REJECT_MESSAGE`).
 */
import { createRoute } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { RejectCallSchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  jsonBody,
  jsonResponse,
  PhoneParams,
  SECURED,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const rejectRoute = createRoute({
  method: "post",
  path: "/{phoneNumber}/calls/reject",
  tags: ["Calls"],
  summary: "Reject a call that rings",
  description: "Give the `from` and `id` of its `call.received` event; a `call.rejected` event " +
    "follows. 404 for a call that is not ringing (any more).",
  security: SECURED,
  request: { params: PhoneParams, ...jsonBody(RejectCallSchema) },
  responses: {
    200: jsonResponse(SuccessSchema, "Rejected"),
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

export function createCallRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  return createRouter()
    .guard(guards.requireSingleAccountProtected(), rejectRoute)
    .openapi(rejectRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const call = c.req.valid("json");
      await manager.session(phoneNumber, c.get("principal")).rejectCall(call);
      return c.json({ success: true, message: `Call "${call.id}" rejected` }, 200);
    });
}
