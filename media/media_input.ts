/**
 * @module
 * Turns a media field of a request (`imageUrl`, `fileUrl`, `audioUrl`, …) into the engine's
 * `MediaInput` (base64 bytes, MIME type, file name). A field takes an `http(s)` URL (fetched with
 * `safeFetch` under the address policy), a `data:` URL (base64 or percent-encoded) or bare
 * base64; anything else is a 400 naming the field, and more bytes than the cap is a 413.
 *
 * The MIME type rule: the bytes win whenever `file-type` recognises them, because a header or a
 * data URL type is only a claim. Two exceptions keep a more precise claim: a generic container
 * sniffed under a specific type of that family (zip bytes declared as a .docx type, CFB as .doc,
 * XML as an `+xml` type, Ogg as `audio/*` or `video/*`). When the bytes are not recognised (plain
 * text, CSV, vCard, JSON) the declared type is kept, and `application/octet-stream` is the last
 * resort. Image, video, voice and audio fields must end up with a type of that kind.
 *
 * A URL whose host (or a redirect's) is refused or does not resolve gets one message that names
 * only the field and `MEDIA_ALLOW_PRIVATE_HOSTS`; the host, its addresses and the reason go to
 * the log with the request id.
 */
import { Buffer } from "node:buffer";
import { fileTypeFromBuffer } from "file-type";
import mime from "mime";
import { ApiError, badRequest, payloadTooLarge } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { MediaInput, MediaKind } from "../sessions/engine.ts";
import {
  type AddressPolicy,
  createAddressPolicy,
  hostNotAllowed,
  HostNotAllowedError,
  type HostResolver,
} from "../ssrf_guard/address_policy.ts";
import { percentDecode, safeFetch } from "../ssrf_guard/safe_fetch.ts";

export interface MediaFetchDeps {
  policy: AddressPolicy;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects?: number;
  resolver?: HostResolver;
  /** Extra trusted CA certificates (PEM) for https media URLs. */
  ca?: string[];
  /** Clock for generated file names (default `Date.now`). */
  now?: () => number;
  /** Where refused hosts are logged with their detail (without it they are not logged). */
  log?: Logger;
}

export interface MediaFieldOptions {
  /** The request field, named in every error: `imageUrl`, `fileUrl`, … */
  field: string;
  kind: MediaKind;
  /** A file name given by the caller; used as is (minus any path). */
  filename?: string;
  /** Aborts a URL fetch, for example when the HTTP client went away. */
  signal?: AbortSignal;
  /** The request's id, for the log line of a refused host. */
  requestId?: string;
}

export type MediaResolver = (value: string, options: MediaFieldOptions) => Promise<MediaInput>;

/** Builds the resolver that routes receive, from `config.media`. */
export function createMediaResolver(
  media: { allowPrivateHosts: readonly string[]; timeoutMs: number; maxBytes: number },
  extra: Partial<Omit<MediaFetchDeps, "timeoutMs" | "maxBytes">> = {},
): MediaResolver {
  const deps: MediaFetchDeps = {
    policy: createAddressPolicy(media.allowPrivateHosts),
    timeoutMs: media.timeoutMs,
    maxBytes: media.maxBytes,
    ...extra,
  };
  return (value, options) => resolveMediaInput(value, options, deps);
}

interface Raw {
  /** Base64 of the whole content. */
  data: string;
  /** The first bytes, enough for sniffing. */
  head: Uint8Array;
  declared: string | null;
  /** Names in order of preference (header, URL path); the first usable one wins. */
  names: (string | undefined)[];
}

const SNIFF_BYTES = 4100;
const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/** Resolves one media field; throws `ApiError` 400 or 413 naming the field. */
export async function resolveMediaInput(
  value: string,
  options: MediaFieldOptions,
  deps: MediaFetchDeps,
): Promise<MediaInput> {
  const { field } = options;
  const text = value.trim();
  if (text === "") throw badRequest(`Invalid ${field}: it is empty`);
  const scheme = SCHEME.exec(text)?.[1].toLowerCase();
  let raw: Raw;
  if (scheme === "http" || scheme === "https") {
    raw = await fromUrl(text, options, deps);
  } else if (scheme === "data") {
    raw = fromDataUrl(text, field, deps.maxBytes);
  } else if (scheme !== undefined) {
    throw badRequest(
      `Invalid ${field}: scheme "${scheme}:" is not allowed, use http(s), data: or base64`,
    );
  } else {
    raw = fromBase64(text, field, deps.maxBytes, null);
  }

  const sniffed = await fileTypeFromBuffer(raw.head).catch(() => undefined);
  const mimetype = chooseMimeType(raw.declared, sniffed?.mime ?? null);
  assertKind(mimetype, options.kind, field);
  const ext = sniffed && mimetype === sniffed.mime ? sniffed.ext : extensionOf(mimetype);

  const given = options.filename === undefined ? undefined : cleanFileName(options.filename);
  if (options.filename !== undefined && given === undefined) {
    throw badRequest(`Invalid filename: "${options.filename}" has no usable name`);
  }
  const derived = raw.names.map((name) => name === undefined ? undefined : cleanFileName(name))
    .find((name) => name !== undefined);
  const filename = given ??
    withExtension(derived ?? `${options.kind}-${(deps.now ?? Date.now)()}`, mimetype, ext);
  return { mimetype, data: raw.data, filename };
}

async function fromUrl(
  url: string,
  options: MediaFieldOptions,
  deps: MediaFetchDeps,
): Promise<Raw> {
  const result = await safeFetch(url, {
    policy: deps.policy,
    timeoutMs: deps.timeoutMs,
    maxBytes: deps.maxBytes,
    maxRedirects: deps.maxRedirects,
    label: options.field,
    resolver: deps.resolver,
    ca: deps.ca,
    signal: options.signal,
  }).catch((error) => {
    if (!(error instanceof HostNotAllowedError)) throw error;
    deps.log?.warn("media URL refused", {
      requestId: options.requestId,
      field: options.field,
      ...error.refusal,
    });
    throw badRequest(
      `Invalid body field "${options.field}": ${hostNotAllowed("MEDIA_ALLOW_PRIVATE_HOSTS")}`,
    );
  });
  const { bytes } = result;
  if (bytes.byteLength === 0) {
    throw badRequest(`Invalid ${options.field}: the URL answered no bytes`);
  }
  return {
    data: toBase64(bytes),
    head: bytes.subarray(0, SNIFF_BYTES),
    declared: essence(result.contentType),
    names: [result.fileNameFromHeader, lastPathSegment(result.finalUrl)],
  };
}

function fromDataUrl(url: string, field: string, maxBytes: number): Raw {
  const comma = url.indexOf(",");
  if (comma < 0) throw badRequest(`Invalid ${field}: a data: URL needs a comma before its data`);
  const params = url.slice(5, comma).split(";").map((part) => part.trim());
  const base64 = params.length > 1 && params[params.length - 1].toLowerCase() === "base64";
  if (base64) params.pop();
  const type = params[0] === "" ? null : params[0];
  if (type !== null && essence(type) === null) {
    throw badRequest(`Invalid ${field}: "${type}" is not a MIME type`);
  }
  const name = params.slice(1).map((p) => /^(?:file)?name=(.*)$/i.exec(p)?.[1]).find(Boolean);
  const names = [name === undefined ? undefined : safeDecode(name.replace(/^"(.*)"$/, "$1"))];
  const payload = url.slice(comma + 1);
  if (base64) {
    return { ...fromBase64(payload, field, maxBytes, essence(type)), names };
  }
  const bytes = percentDecode(payload);
  if (bytes.byteLength > maxBytes) throw tooLarge(field, maxBytes);
  if (bytes.byteLength === 0) throw badRequest(`Invalid ${field}: the data: URL holds no bytes`);
  return {
    data: toBase64(bytes),
    head: bytes.subarray(0, SNIFF_BYTES),
    // RFC 2397: a data URL without a type is text/plain.
    declared: essence(type) ?? "text/plain",
    names,
  };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fromBase64(raw: string, field: string, maxBytes: number, declared: string | null): Raw {
  // Tools wrap base64 at 76 characters (MIME, `base64`): line breaks are not part of the data.
  const text = /\s/.test(raw) ? raw.replace(/\s+/g, "") : raw;
  if (text.length === 0) throw badRequest(`Invalid ${field}: the base64 data is empty`);
  const invalid = () =>
    badRequest(`Invalid ${field}: expected an http(s) URL, a data: URL or standard padded base64`);
  if (text.length % 4 !== 0) throw invalid();
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const size = (text.length / 4) * 3 - padding;
  // The size is known from the length alone: refuse an oversized value before scanning it.
  if (size > maxBytes) throw tooLarge(field, maxBytes);
  if (!BASE64.test(text)) throw invalid();
  if (size === 0) throw badRequest(`Invalid ${field}: the base64 data is empty`);
  // Only the head is decoded (for sniffing); the engine takes the base64 as it came.
  const head = Buffer.from(text.slice(0, Math.ceil(SNIFF_BYTES / 3) * 4), "base64");
  return { data: text, head: new Uint8Array(head), declared, names: [] };
}

function tooLarge(field: string, maxBytes: number): ApiError {
  return payloadTooLarge(`${field} is larger than the limit of ${maxBytes} bytes`);
}

/** `Buffer`'s native encoder: a 64 MiB buffer encodes in tens of milliseconds. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** `type/subtype` in lower case without parameters, or null when it is not one. */
function essence(contentType: string | null | undefined): string | null {
  if (!contentType) return null;
  const type = contentType.split(";")[0].trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? type : null;
}

const UNINFORMATIVE = new Set([
  "application/octet-stream",
  "binary/octet-stream",
  "application/binary",
  "application/unknown",
  "application/x-download",
  "application/force-download",
]);

/** Generic containers `file-type` reports, with the declared types that may refine them. */
const CONTAINERS: Record<string, (declared: string) => boolean> = {
  "application/zip": (d) => d.startsWith("application/"),
  "application/x-cfb": (d) => d.startsWith("application/"),
  "application/xml": (d) => d.endsWith("+xml") || d === "text/xml",
  "application/ogg": (d) => d.startsWith("audio/") || d.startsWith("video/"),
};

/**
 * The MIME type to send, from the declared type (header or data URL, essence only) and the type
 * `file-type` sniffed from the bytes; see the module comment for the rule.
 */
export function chooseMimeType(declared: string | null, sniffed: string | null): string {
  const claim = declared !== null && !UNINFORMATIVE.has(declared) ? declared : null;
  if (sniffed === null) return claim ?? "application/octet-stream";
  if (claim === null) return sniffed;
  const refines = CONTAINERS[essence(sniffed) ?? ""];
  if (refines?.(claim)) return claim;
  return sniffed;
}

const KIND_TYPES: Record<MediaKind, ((type: string) => boolean) | null> = {
  image: (t) => t.startsWith("image/"),
  video: (t) => t.startsWith("video/"),
  // m4a may sniff as video/mp4 and Opus/Vorbis as application/ogg or video/webm containers.
  voice: (t) => t.startsWith("audio/") || AUDIO_CONTAINERS.has(t),
  audio: (t) => t.startsWith("audio/") || AUDIO_CONTAINERS.has(t),
  file: null,
};
const AUDIO_CONTAINERS = new Set(["video/mp4", "video/ogg", "video/webm", "application/ogg"]);
const KIND_NAMES: Record<MediaKind, string> = {
  image: "an image",
  video: "a video",
  voice: "audio",
  audio: "audio",
  file: "a file",
};

function assertKind(mimetype: string, kind: MediaKind, field: string): void {
  const accepts = KIND_TYPES[kind];
  if (accepts && !accepts(essence(mimetype) ?? "")) {
    throw badRequest(`Invalid ${field}: expected ${KIND_NAMES[kind]}, got "${mimetype}"`);
  }
}

function extensionOf(mimetype: string): string {
  return mime.getExtension(essence(mimetype) ?? "") ?? "bin";
}

/** Makes a derived name end in an extension of its MIME type (replacing a known other one). */
function withExtension(name: string, mimetype: string, ext: string): string {
  const type = essence(mimetype) ?? "";
  if (type === "application/octet-stream") return name.includes(".") ? name : `${name}.bin`;
  const current = mime.getType(name);
  if (current === type) return name;
  const dot = name.lastIndexOf(".");
  const stem = current !== null && dot > 0 ? name.slice(0, dot) : name;
  return `${stem}.${ext}`;
}

/** The last path segment of a URL, decoded, or undefined. */
function lastPathSegment(url: string): string | undefined {
  const path = new URL(url).pathname;
  const segment = path.slice(path.lastIndexOf("/") + 1);
  return segment === "" ? undefined : safeDecode(segment);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A file name reduced to its last path part, without control or reserved characters, leading
 * dots or more than 200 characters; undefined when nothing usable is left.
 */
export function cleanFileName(name: string): string | undefined {
  const base = name.split(/[\\/]/).pop() ?? "";
  // deno-lint-ignore no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, "").trim().replace(/^\.+/, "")
    .slice(0, 200).trim();
  return cleaned === "" ? undefined : cleaned;
}
