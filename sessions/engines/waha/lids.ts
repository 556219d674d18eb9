/**
 * @module
 * The waha engine's LIDs: the LIDs WAHA's session knows with their phone numbers, and one looked
 * up either way, over WAHA's `GET /api/{session}/lids…` calls (newer WAHA). WAHA lists them a page
 * at a time; the engine reads every page.
 */
import type { Engine, LidMapping } from "../../engine.ts";
import type { LidsListQueryParams, LidToPhoneNumber } from "../../../waha/schemas.ts";
import { segment, type WahaContext } from "./context.ts";

export type WahaLidCapabilities = Pick<Engine, "listLids" | "findPnByLid" | "findLidByPn">;

/** WAHA's page size (its default). */
const PAGE = 100;
/** The most LIDs read in one listing. */
const MAX_LIDS = 10_000;

export function createWahaLids(ctx: WahaContext): WahaLidCapabilities {
  const lookUp = (suffix: string) =>
    ctx.client.call<LidToPhoneNumber | null>({ method: "GET", path: ctx.path(`/lids${suffix}`) });

  return {
    async listLids() {
      const all: LidMapping[] = [];
      for (let offset = 0; offset < MAX_LIDS; offset += PAGE) {
        const query: LidsListQueryParams = { limit: PAGE, offset };
        const page = await ctx.client.call<LidToPhoneNumber[] | null>({
          method: "GET",
          path: ctx.path("/lids"),
          query,
        }) ?? [];
        for (const entry of page) {
          if (entry.lid) all.push({ lid: entry.lid, pn: entry.pn ?? null });
        }
        if (page.length < PAGE) break;
      }
      return all;
    },

    async findPnByLid(lid) {
      const found = await lookUp(`/${segment(lid)}`);
      return { lid, pn: found?.pn ?? null };
    },

    async findLidByPn(pn) {
      const found = await lookUp(`/pn/${segment(pn)}`);
      return { lid: found?.lid ?? null, pn };
    },
  };
}
