/**
 * @module
 * The waha engine's WhatsApp Business labels: list, create, change and delete them, a chat's
 * labels (read, and set as a whole), and the chats of a label, over WAHA's
 * `/api/{session}/labels…` calls. WAHA refuses a name another label has and a 21st label with a
 * 422, which would read as a session that is not ready: the engine checks both first and refuses
 * them itself (400). WAHA also refuses a change that keeps the label's name (it finds the label
 * itself by that name), so a colour changes only with a new name.
 */
import { type Engine, EngineError, LABEL_COLORS, type LabelDto, notFound } from "../../engine.ts";
import type { Label, LabelBody, SetLabelsRequest } from "../../../waha/schemas.ts";
import { segment, type WahaContext } from "./context.ts";
import { toChatSummary } from "./mappers.ts";

export type WahaLabelCapabilities = Pick<
  Engine,
  | "listLabels"
  | "createLabel"
  | "updateLabel"
  | "deleteLabel"
  | "getChatLabels"
  | "setChatLabels"
  | "getLabelChats"
>;

/** WhatsApp's limit, which WAHA enforces. */
const MAX_LABELS = 20;

export function toLabelDto(label: Label): LabelDto {
  const color = typeof label.color === "number" && label.color >= 0 &&
      label.color < LABEL_COLORS.length
    ? label.color
    : null;
  return {
    id: String(label.id),
    name: label.name,
    color,
    colorHex: label.colorHex || (color === null ? "#000000" : LABEL_COLORS[color]),
  };
}

export function createWahaLabels(ctx: WahaContext): WahaLabelCapabilities {
  const { client, path } = ctx;

  async function listLabels(): Promise<LabelDto[]> {
    const list = await client.call<Label[] | null>({ method: "GET", path: path("/labels") });
    return (list ?? []).map(toLabelDto);
  }

  function assertNameFree(labels: LabelDto[], name: string, except?: string): void {
    const taken = labels.find((l) => l.id !== except && l.name === name);
    if (taken) {
      throw new EngineError(
        "BAD_REQUEST",
        `A label named "${taken.name}" exists already (id "${taken.id}")`,
      );
    }
  }

  function labelOf(labels: LabelDto[], labelId: string): LabelDto {
    const label = labels.find((l) => l.id === labelId);
    if (!label) throw notFound(`Label "${labelId}" not found`);
    return label;
  }

  return {
    listLabels,

    async createLabel({ name, color }) {
      const labels = await listLabels();
      assertNameFree(labels, name);
      if (labels.length >= MAX_LABELS) {
        throw new EngineError("BAD_REQUEST", `An account has at most ${MAX_LABELS} labels`);
      }
      const body: LabelBody = { name, color: color ?? 0 };
      const created = await client.call<Label>({ method: "POST", path: path("/labels"), body });
      return toLabelDto(created);
    },

    async updateLabel({ labelId, name, color }) {
      const labels = await listLabels();
      const label = labelOf(labels, labelId);
      assertNameFree(labels, name, labelId);
      if (name === label.name) {
        // WAHA looks the new name up among every label, this one included, and refuses it.
        throw new EngineError(
          "BAD_REQUEST",
          "WAHA refuses a label change that keeps its name: give it a new one",
        );
      }
      const body: LabelBody = { name, color: color ?? label.color ?? 0 };
      const updated = await client.call<Label>({
        method: "PUT",
        path: path(`/labels/${segment(labelId)}`),
        body,
      });
      return toLabelDto(updated);
    },

    async deleteLabel(labelId) {
      await client.call({ method: "DELETE", path: path(`/labels/${segment(labelId)}`) });
    },

    async getChatLabels(chatId) {
      const list = await client.call<Label[] | null>({
        method: "GET",
        path: path(`/labels/chats/${segment(chatId)}`),
      });
      return (list ?? []).map(toLabelDto);
    },

    async setChatLabels({ chatId, labels }) {
      const body: SetLabelsRequest = { labels: labels.map(({ id }) => ({ id })) };
      await client.call({ method: "PUT", path: path(`/labels/chats/${segment(chatId)}`), body });
    },

    async getLabelChats(labelId) {
      const list = await client.call<unknown[] | null>({
        method: "GET",
        path: path(`/labels/${segment(labelId)}/chats`),
      });
      return (list ?? []).map(toChatSummary);
    },
  };
}
