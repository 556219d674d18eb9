/**
 * @module
 * Polls: sending one (`POST /{phoneNumber}/send-poll`, WAHA's body: `{ chatId, poll: { name,
 * options, multipleAnswers } }`) and reading its votes as they stand
 * (`GET /{phoneNumber}/polls/{messageId}/votes`): each voter's current choice and the count per
 * option. Votes as they come arrive as `poll.vote` events.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthGuards } from "../middleware/guards.ts";
import type { PollDto } from "../sessions/engine.ts";
import type { SessionManager } from "../sessions/manager.ts";
import { SendPollSchema } from "./engine_inputs.ts";
import { createRouter } from "./router.ts";
import {
  errorResponses,
  jsonResponse,
  MessageParams,
  SECURED,
  SentMessageSchema,
  SESSION_CALL_ERRORS,
  sessionPostRoute,
} from "./schemas.ts";

const TAG = "Polls";

const PollVotesSchema = z.object({
  pollId: z.string().openapi({ example: "true_15550000001@c.us_3EB0C0FFEE0123456789" }),
  chatId: z.string().openapi({ example: "15550000001@c.us" }),
  name: z.string().openapi({ example: "Lunch on Friday?" }),
  multipleAnswers: z.boolean().openapi({ example: false }),
  options: z.array(z.object({
    name: z.string().openapi({ example: "Pizza" }),
    votes: z.number().int().openapi({ example: 1, description: "Voters who chose it now" }),
  })).openapi({ description: "The options in the poll's order, with their votes" }),
  votes: z.array(z.object({
    voter: z.string().openapi({ example: "15550000001@c.us" }),
    selectedOptions: z.array(z.string()).openapi({ example: ["Pizza"] }),
    timestamp: z.number().int().openapi({
      example: 1764086400,
      description: "Unix seconds of the voter's last change",
    }),
  })).openapi({ description: "Each voter's current choice (voters who took theirs back: none)" }),
}).openapi("PollVotes");

const sendPollRoute = sessionPostRoute({
  action: "send-poll",
  tag: TAG,
  summary: "Send a poll (2 to 12 options; one answer, or several with multipleAnswers)",
  body: SendPollSchema,
  response: SentMessageSchema,
  description: "Sent; keep `messageId`: `poll.vote` events name the poll by it",
  idempotent: true,
});

const votesRoute = createRoute({
  method: "get",
  path: "/{phoneNumber}/polls/{messageId}/votes",
  tags: [TAG],
  summary: "A poll's votes as they stand: each voter's choice and the count per option",
  security: SECURED,
  request: { params: MessageParams },
  responses: {
    200: jsonResponse(PollVotesSchema, "The poll and its votes"),
    ...errorResponses(...SESSION_CALL_ERRORS),
  },
});

/** The answer of the votes route: the engine's poll with the count per option. */
export function tallyPoll(poll: PollDto): z.infer<typeof PollVotesSchema> {
  const votes = poll.votes.filter((vote) => vote.selectedOptions.length > 0);
  return {
    pollId: poll.pollId,
    chatId: poll.chatId,
    name: poll.name,
    multipleAnswers: poll.multipleAnswers,
    options: poll.options.map((name) => ({
      name,
      votes: votes.filter((vote) => vote.selectedOptions.includes(name)).length,
    })),
    votes,
  };
}

export function createPollRoutes(deps: { manager: SessionManager; guards: AuthGuards }) {
  const { manager, guards } = deps;

  return createRouter()
    .guard(guards.requireSingleAccountProtected(), sendPollRoute, votesRoute)
    .openapi(sendPollRoute, async (c) => {
      const { phoneNumber } = c.req.valid("param");
      const session = manager.session(phoneNumber, c.get("principal"));
      return c.json(await session.sendPoll(c.req.valid("json")), 200);
    })
    .openapi(votesRoute, async (c) => {
      const { phoneNumber, messageId } = c.req.valid("param");
      const poll = await manager.session(phoneNumber, c.get("principal")).getPollVotes(messageId);
      return c.json(tallyPoll(poll), 200);
    });
}
