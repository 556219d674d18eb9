/** @jsxImportSource hono/jsx */
/**
 * @module
 * The dashboard's page, server-rendered with Hono's JSX: the skeleton every part of the script
 * (`script.js`) fills in, with nothing secret in it, so it is served without a credential. The
 * script and styles are separate files named with their content hash (the CSP allows no inline
 * script or style), and every control has a label for screen readers and keyboards.
 */
import type { FC } from "hono/jsx";

export interface PageAssets {
  script: string;
  styles: string;
  /** Where the API is mounted (`/api/whatsapp`), for the script and the links. */
  apiBase: string;
}

const SignIn: FC = () => (
  <section id="sign-in" aria-labelledby="sign-in-title">
    <h2 id="sign-in-title">Sign in</h2>
    <p>
      Paste the admin API key, an account's API key or a JWT. It stays in this tab only (session
      storage) and is sent as a header to the API, never in a cookie or a URL.
    </p>
    <form id="sign-in-form" method="post">
      <label for="credential">API key or JWT</label>
      <input
        id="credential"
        name="credential"
        type="password"
        autocomplete="off"
        spellcheck={false}
        required
      />
      <button type="submit">Sign in</button>
    </form>
  </section>
);

const Numbers: FC = () => (
  <section id="numbers" aria-labelledby="numbers-title">
    <h2 id="numbers-title">Numbers</h2>
    <table>
      <thead>
        <tr>
          <th scope="col">Number</th>
          <th scope="col">Status</th>
          <th scope="col">Engine</th>
          <th scope="col" class="node-column" hidden>Node</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody id="number-rows"></tbody>
    </table>
    <p id="no-numbers" hidden>No numbers yet.</p>
  </section>
);

const Link: FC = () => (
  <section id="linking" aria-labelledby="linking-title">
    <h2 id="linking-title">Link a number</h2>
    <form id="start-form" method="post">
      <div class="fields">
        <label for="start-number">Phone number (digits, with country code)</label>
        <input
          id="start-number"
          name="phoneNumber"
          inputmode="numeric"
          pattern="\+?[0-9]{6,20}"
          placeholder="4915550001234"
          required
        />
        <label for="start-engine">Engine</label>
        <select id="start-engine" name="engine">
          <option value="">Server default</option>
          <option value="wwebjs">WhatsApp Web (wwebjs)</option>
          <option value="simulator">Simulator</option>
        </select>
        <button type="submit">Start</button>
      </div>
    </form>
    <div id="link" hidden>
      <h3>
        Linking <span id="link-number"></span>
      </h3>
      <p id="link-status" role="status" aria-live="polite"></p>
      <img id="qr" alt="QR code: scan it with WhatsApp, Linked devices, Link a device" hidden />
      <p id="qr-hint" hidden>
        On the phone: WhatsApp, Settings, Linked devices, Link a device. The code refreshes itself.
      </p>
      <div id="pairing">
        <button type="button" id="pairing-button">Link with a pairing code instead</button>
        <p id="pairing-code" aria-live="polite"></p>
      </div>
    </div>
  </section>
);

const Detail: FC = () => (
  <section id="detail" aria-labelledby="detail-title" hidden>
    <h2 id="detail-title">
      Number <span id="detail-number"></span>
    </h2>
    <form id="send-form" method="post">
      <fieldset class="fields">
        <legend>Send a text</legend>
        <label for="send-chat">To (phone number or chat id)</label>
        <input id="send-chat" name="chatId" required placeholder="15550000000@c.us" />
        <label for="send-text">Text</label>
        <textarea id="send-text" name="text" rows={2} required></textarea>
        <button type="submit">Send</button>
      </fieldset>
    </form>
    <h3>Live events</h3>
    <ol id="feed" aria-live="polite" aria-relevant="additions"></ol>
    <h3>Webhooks</h3>
    <button type="button" id="webhooks-refresh">Refresh webhooks and deliveries</button>
    <ul id="webhooks"></ul>
    <table>
      <caption>Recent deliveries</caption>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">To</th>
          <th scope="col">Status</th>
          <th scope="col">Attempts</th>
          <th scope="col">Last error</th>
          <th scope="col">Updated</th>
          <th scope="col">Action</th>
        </tr>
      </thead>
      <tbody id="deliveries"></tbody>
    </table>
  </section>
);

/** The whole page, as the HTML text to serve. */
export function renderPage(assets: PageAssets): string {
  const page = (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>wa-gateway dashboard</title>
        <link rel="stylesheet" href={assets.styles} />
        <script type="module" src={assets.script}></script>
      </head>
      <body data-api={assets.apiBase}>
        <header>
          <h1>wa-gateway</h1>
          <p id="who" aria-live="polite"></p>
          <button type="button" id="sign-out" hidden>Sign out</button>
        </header>
        <main>
          <p id="notice" role="alert"></p>
          <p id="info" role="status" aria-live="polite"></p>
          <SignIn />
          <div id="signed-in" hidden>
            <Numbers />
            <Link />
            <Detail />
          </div>
        </main>
        <footer>
          <a href={`${assets.apiBase}/swagger`}>API reference</a>
        </footer>
      </body>
    </html>
  );
  return "<!doctype html>" + page.toString();
}
