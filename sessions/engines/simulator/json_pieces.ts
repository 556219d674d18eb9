/**
 * @module
 * `JSON.stringify` in pieces of a bounded length, for a state that grows without bound (a
 * simulator number's chats keep every message). One string of the whole state per write is, past
 * 128 KB, a large object of its own in V8 (a mapping of its own until the next GC), and the
 * simulator writes its state at each change: in the long soak each of twenty Workers made one a
 * second, as large as its history (bench/README.md). Pieces of at most about `maxChars` stay in
 * the young generation and are reused. Joined, the pieces are exactly `JSON.stringify(value)`.
 *
 * Arrays and plain objects are walked down to `maxDepth` levels (the state, its chats, a chat, its
 * messages); deeper values, and anything else, are stringified whole, so a piece is longer than
 * `maxChars` only by one such value.
 */

/** About 16 K characters: 16–48 KB of UTF-8, far below V8's large-object size. */
export const PIECE_CHARS = 16_384;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

export function* jsonPieces(
  value: unknown,
  options: { maxChars?: number; maxDepth?: number } = {},
): Generator<string> {
  const maxChars = options.maxChars ?? PIECE_CHARS;
  const maxDepth = options.maxDepth ?? 4;
  let parts: string[] = [];
  let size = 0;
  const add = (text: string) => {
    parts.push(text);
    size += text.length;
  };
  const full = () => size >= maxChars;
  const take = () => {
    const piece = parts.join("");
    parts = [];
    size = 0;
    return piece;
  };
  const walkable = (item: unknown, depth: number) =>
    depth < maxDepth && (Array.isArray(item) || isPlainObject(item));

  function* walk(container: unknown[] | Record<string, unknown>, depth: number): Generator<string> {
    if (Array.isArray(container)) {
      add("[");
      for (let i = 0; i < container.length; i++) {
        if (i > 0) add(",");
        const item = container[i];
        if (walkable(item, depth + 1)) yield* walk(item as unknown[], depth + 1);
        else add(JSON.stringify(item) ?? "null");
        if (full()) yield take();
      }
      add("]");
      return;
    }
    add("{");
    let first = true;
    for (const [key, item] of Object.entries(container)) {
      const whole = walkable(item, depth + 1) ? null : JSON.stringify(item);
      // As JSON.stringify does: a property whose value has no JSON (undefined, a function) is left out.
      if (whole === undefined) continue;
      add(`${first ? "" : ","}${JSON.stringify(key)}:`);
      first = false;
      if (whole === null) yield* walk(item as Record<string, unknown>, depth + 1);
      else add(whole);
      if (full()) yield take();
    }
    add("}");
  }

  if (walkable(value, 0)) yield* walk(value as Record<string, unknown>, 0);
  else add(JSON.stringify(value) ?? "null");
  if (size > 0) yield take();
}
