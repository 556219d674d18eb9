/**
 * @module
 * The API's documentation: the OpenAPI document generated from the routes at `/swagger/json`, and
 * Swagger UI at `/swagger` with its script and styles served from the `swagger-ui-dist` package,
 * so it works on networks without internet; `/` and the API's base redirect to it (naming the
 * dashboard in a `Link` header, as the document's description links it).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { swaggerUI } from "@hono/swagger-ui";
import type { Context } from "hono";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
// Not the package's main module: that one also loads the 1.7 MB Swagger UI bundle into the server.
import getAbsoluteFSPath from "swagger-ui-dist/absolute-path.js";
import { DASHBOARD_PATH } from "../dashboard/routes.ts";
import type { AppEnv } from "../middleware/principal.ts";
import { WAHA_TAG } from "./waha/dialect.ts";

/** The WAHA dialect's group in Swagger UI. */
const WAHA_TAG_DESCRIPTION = "WAHA's REST API, for software written for WAHA (its SDKs, n8n " +
  "nodes): the same sessions, guards and checks as the routes under `/api/whatsapp`, under `/api` " +
  "with WAHA's paths, fields and answers. A WAHA `session` is the phone number; `X-Api-Key` " +
  "takes the admin key or an account's key, and a Bearer JWT works too. Errors have WAHA's body " +
  "`{ statusCode, message, error }`; WAHA endpoints not covered here answer `501`";

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

export const OPENAPI_INFO = {
  openapi: "3.0.3",
  info: {
    title: "wa-gateway",
    version: "0.1.0",
    description:
      "Self-hosted WhatsApp HTTP API: link a phone by QR code, then send and read messages, " +
      "chats, contacts, groups and profile through REST, and receive events by webhook.\n\n" +
      `**[Dashboard](${DASHBOARD_PATH})**: link phones by QR and watch their numbers, events and ` +
      "webhooks in a browser, signed in with your API key or JWT.\n\n" +
      "Every error has the body `{ error, code, statusCode }`. Beside each operation's own: " +
      "`405 METHOD_NOT_ALLOWED` (with `Allow`) for a path that exists with other methods, " +
      "`401 UNAUTHORIZED` and `429 TOO_MANY_REQUESTS` (failed authentications from one " +
      "address, never for a valid credential) where a credential is needed, " +
      "`408 REQUEST_TIMEOUT`, `413 PAYLOAD_TOO_LARGE` and `415 UNSUPPORTED_MEDIA_TYPE` where a " +
      "body is read.",
  },
};

/**
 * Adds the documentation routes to the app; `base` is where the API is mounted. `/` and `base`
 * itself lead to Swagger UI: where a newcomer's browser goes first.
 */
export function mountSwagger(app: OpenAPIHono<AppEnv>, base: string, version: string): void {
  // The API's root names the dashboard too, for a client that reads links rather than pages.
  const toSwaggerUi = (c: Context) => {
    c.header("Link", `<${DASHBOARD_PATH}>; rel="related"; title="Dashboard"`);
    return c.redirect(`${base}/swagger`, 302);
  };
  app.get("/", toSwaggerUi);
  app.get(base, toSwaggerUi);
  app.get(`${base}/`, toSwaggerUi);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A JWT from your identity provider (WorkOS AuthKit or any JWKS)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-Api-Key",
    description: "The admin API key, or an account-scoped key",
  });
  app.doc(`${base}/swagger/json`, {
    ...OPENAPI_INFO,
    info: { ...OPENAPI_INFO.info, version },
    tags: [{ name: WAHA_TAG, description: WAHA_TAG_DESCRIPTION }],
  });

  const cache = new Map<string, Uint8Array>();
  app.get(`${base}/swagger/assets/swagger-ui-dist/:file`, async (c) => {
    const file = c.req.param("file");
    const type = ASSETS[file];
    if (!type) return c.notFound();
    let bytes = cache.get(file);
    if (!bytes) {
      bytes = new Uint8Array(await readFile(join(getAbsoluteFSPath(), file)));
      cache.set(file, bytes);
    }
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": type,
      "Cache-Control": "public, max-age=86400",
    });
  });
  app.get(
    `${base}/swagger`,
    swaggerUI({
      url: `${base}/swagger/json`,
      baseUrl: `${base}/swagger/assets`,
      title: "wa-gateway API",
      persistAuthorization: true,
    }),
  );
}
