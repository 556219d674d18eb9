/**
 * @module
 * How the fake WAHA answers, shared by its routes by area (`server.ts`, `groups.ts`, …): JSON,
 * NestJS's error body, a refusal thrown from deep in a route, and the strict check of a request
 * against WAHA's DTO.
 */
import { z } from "@hono/zod-openapi";

export const json = (status: number, body: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
  });

/** NestJS's error body, as WAHA answers it. */
export const nestError = (status: number, error: string, message: string | string[]) =>
  json(status, { statusCode: status, message, error });

/** An answer thrown from inside a route (a 400, 404 or 422), sent as it is. */
export class Refusal {
  constructor(readonly response: Response) {}
}

/**
 * `schema` with every object in it strict: a field WAHA's DTO does not name is refused here, so
 * our engine cannot send one and pass (the shared schemas strip unknown fields, as our own WAHA
 * dialect must accept what WAHA's clients send).
 */
export function strictly<T>(schema: z.ZodType<T>): z.ZodType<T> {
  const strict = (inner: z.ZodType): z.ZodType => {
    if (inner instanceof z.ZodObject) {
      const shape = Object.entries(inner.shape as Record<string, z.ZodType>);
      return z.object(Object.fromEntries(shape.map(([key, field]) => [key, strict(field)])))
        .strict();
    }
    if (inner instanceof z.ZodOptional) return strict(inner.unwrap() as z.ZodType).optional();
    if (inner instanceof z.ZodNullable) return strict(inner.unwrap() as z.ZodType).nullable();
    if (inner instanceof z.ZodArray) return z.array(strict(inner.element as z.ZodType));
    if (inner instanceof z.ZodUnion) {
      return z.union((inner.options as z.ZodType[]).map(strict) as [z.ZodType, ...z.ZodType[]]);
    }
    return inner;
  };
  return strict(schema) as z.ZodType<T>;
}

/** `body` as WAHA's DTO `schema` takes it, or a 400 in NestJS's shape naming what is wrong. */
export function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = strictly(schema).safeParse(body);
  if (!result.success) {
    const messages = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Refusal(nestError(400, "Bad Request", messages));
  }
  return result.data;
}

/** A string a NestJS controller returns: sent as text, not JSON. */
export const textAnswer = (status: number, value: string) =>
  new Response(value, { status, headers: { "Content-Type": "text/html; charset=utf-8" } });
