/**
 * @module
 * WhatsApp Business labels, with WAHA's paths and shapes under `/{phoneNumber}/labels`: list the
 * account's labels, create, edit and delete one, read a chat's labels and set them
 * (`PUT …/labels/chats/{chatId}` with `{ labels: [{ id }] }`, the chat's whole set), and list the
 * chats that have a label. Changes arrive as `label.upsert`, `label.deleted`, `label.chat.added`
 * and `label.chat.deleted` events where the engine reports them.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { ChatSummarySchema } from "./chats.ts";
import { LabelId, labelInput, SetChatLabelsSchema, UpsertLabelSchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  ChatParams,
  errorResponses,
  IdempotencyHeaders,
  jsonBody,
  jsonResponse,
  PhoneParams,
  SECURED,
  SESSION_CALL_ERRORS,
  SuccessSchema,
} from "./schemas.ts";

const TAG = "Labels";

export const LabelSchema = z.object({
  id: z.string().openapi({ example: "1" }),
  name: z.string().openapi({ example: "New customer" }),
  color: z.number().int().nullable().openapi({
    example: 0,
    description: "WhatsApp's colour number (0 to 19); null for a colour outside them",
  }),
  colorHex: z.string().openapi({ example: "#ff9485" }),
}).openapi("Label");

const LabelParams = PhoneParams.extend({
  labelId: LabelId.openapi({ param: { name: "labelId", in: "path" } }),
});

const errors = errorResponses(...SESSION_CALL_ERRORS);

const listRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/labels",
  tags: [TAG],
  summary: "The account's labels (WhatsApp Business)",
  security: SECURED,
  request: { params: PhoneParams },
  responses: { 200: jsonResponse(z.array(LabelSchema), "Every label"), ...errors },
});
const createLabelRoute = createRoute({
  method: "post",
  path: "/{phoneNumber}/labels",
  tags: [TAG],
  summary: "Create a label",
  description: "A `label.upsert` event follows.",
  security: SECURED,
  request: { params: PhoneParams, headers: IdempotencyHeaders, ...jsonBody(UpsertLabelSchema) },
  responses: { 200: jsonResponse(LabelSchema, "The new label"), ...errors },
});
const updateRoute = createRoute({
  method: "put",
  path: "/{phoneNumber}/labels/{labelId}",
  tags: [TAG],
  summary: "Rename a label or change its colour",
  description: "A `label.upsert` event follows.",
  security: SECURED,
  request: { params: LabelParams, ...jsonBody(UpsertLabelSchema) },
  responses: { 200: jsonResponse(LabelSchema, "The label as it is now"), ...errors },
});
const deleteRoute = createRoute({
  method: "delete",
  path: "/{phoneNumber}/labels/{labelId}",
  tags: [TAG],
  summary: "Delete a label (it comes off every chat)",
  description: "`label.chat.deleted` for each chat that had it, then `label.deleted`.",
  security: SECURED,
  request: { params: LabelParams },
  responses: { 200: jsonResponse(SuccessSchema, "Deleted"), ...errors },
});
const chatLabelsRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/labels/chats/{chatId}",
  tags: [TAG],
  summary: "A chat's labels",
  security: SECURED,
  request: { params: ChatParams },
  responses: { 200: jsonResponse(z.array(LabelSchema), "The chat's labels"), ...errors },
});
const setChatLabelsRoute = createRoute({
  method: "put",
  path: "/{phoneNumber}/labels/chats/{chatId}",
  tags: [TAG],
  summary: "Set a chat's labels: exactly the ones given (an empty list takes them all off)",
  description: "`label.chat.added` and `label.chat.deleted` events follow, where the engine " +
    "reports them.",
  security: SECURED,
  request: { params: ChatParams, ...jsonBody(SetChatLabelsSchema) },
  responses: { 200: jsonResponse(SuccessSchema, "Set"), ...errors },
});
const labelChatsRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/labels/{labelId}/chats",
  tags: [TAG],
  summary: "The chats that have a label",
  security: SECURED,
  request: { params: LabelParams },
  responses: { 200: jsonResponse(z.array(ChatSummarySchema), "The label's chats"), ...errors },
});

export function createLabelRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;
  // The reads first: the document (and Swagger UI) lists them before the changes.
  return createRouter()
    .guard(
      guards.requireSingleAccountProtected(),
      listRoute,
      labelChatsRoute,
      chatLabelsRoute,
      setChatLabelsRoute,
      createLabelRoute,
      updateRoute,
      deleteRoute,
    )
    .openapi(listRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      return c.json(await manager.session(phoneNumber, c.get("principal")).listLabels(), 200);
    })
    .openapi(labelChatsRoute, async (c) => {
      const { phoneNumber, labelId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.getLabelChats(labelId), 200);
    })
    .openapi(chatLabelsRoute, async (c) => {
      const { phoneNumber, chatId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.getChatLabels(chatId), 200);
    })
    .openapi(setChatLabelsRoute, async (c) => {
      const { phoneNumber, chatId } = c.req.valid("param");
      const { labels } = c.req.valid("json");
      await manager.session(phoneNumber, c.get("principal")).setChatLabels({ chatId, labels });
      const count = new Set(labels.map((label) => label.id)).size;
      return c.json({ success: true, message: `Chat "${chatId}" has ${count} label(s)` }, 200);
    })
    .openapi(createLabelRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.createLabel(labelInput(c.req.valid("json"))), 200);
    })
    .openapi(updateRoute, async (c) => {
      const { phoneNumber, labelId } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(
        await session.updateLabel({ labelId, ...labelInput(c.req.valid("json")) }),
        200,
      );
    })
    .openapi(deleteRoute, async (c) => {
      const { phoneNumber, labelId } = c.req.valid("param");
      await manager.session(phoneNumber, c.get("principal")).deleteLabel(labelId);
      return c.json({ success: true, message: `Label "${labelId}" deleted` }, 200);
    });
}
