/**
 * @module
 * The dashboard's script: everything the page shows comes from the API, called with the
 * credential the user typed. The credential lives in this tab's session storage and travels only
 * as a header (`X-Api-Key`, or `Authorization: Bearer` for a JWT): never in a cookie, which other
 * sites' requests would carry, nor in a URL, which logs keep. `EventSource` cannot send headers,
 * so the one stream of every number (`GET /events`) is read with `fetch`, resumed after the last
 * event id when it drops: a browser holds only a few connections per origin, one per number
 * would starve the page's own calls.
 */

const API = document.body.dataset.api ?? "/api/whatsapp";
const STORAGE_KEY = "wa-gateway.credential";
/** How many events the feed keeps per number. */
const FEED_MAX = 100;
/** How far back the stream replays when the page opens (ms). */
const REPLAY_MS = 5 * 60_000;
/** How often a QR is fetched again while it is shown (WhatsApp rotates it every ~20 s). */
const QR_REFRESH_MS = 4_000;

const $ = (id) => document.getElementById(id);

const state = {
  credential: null,
  me: null,
  /** phoneNumber -> the session as `GET /sessions` lists it, its status kept live. */
  sessions: new Map(),
  /** phoneNumber -> envelopes, newest first. */
  feeds: new Map(),
  selected: null,
  linking: null,
  stream: null,
  lastEventId: null,
  qrTimer: null,
  qrUrl: null,
};

/** The credential as the API takes it: a JWT (three dotted parts) as a bearer, else a key. */
function authHeaders() {
  const credential = state.credential ?? "";
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(credential)
    ? { Authorization: `Bearer ${credential}` }
    : { "X-Api-Key": credential };
}

class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { ...authHeaders(), Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) {
    signOut("The credential was refused: sign in again.");
  }
  if (!response.ok) throw new ApiFailure(response.status, data.error ?? response.statusText);
  return data;
}

/** Says what went wrong (an alert), or clears it. */
function notice(message) {
  $("notice").textContent = message ?? "";
  if (message) $("info").textContent = "";
}

/** Says what was done (a polite status line). */
function info(message) {
  $("info").textContent = message;
}

/** Runs an action from a button, saying what failed. */
async function act(what, work) {
  notice("");
  try {
    await work();
  } catch (error) {
    notice(`${what}: ${error.message}`);
  }
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "onclick") node.addEventListener("click", value);
    else if (value !== undefined && value !== null && value !== false) {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

// ---- Signing in and out ----

async function signIn(credential) {
  state.credential = credential;
  try {
    state.me = await api("GET", "/me");
  } catch (error) {
    state.credential = null;
    notice(`Sign-in failed: ${error.message}`);
    return;
  }
  sessionStorage.setItem(STORAGE_KEY, credential);
  $("credential").value = "";
  $("sign-in").hidden = true;
  $("signed-in").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = state.me.kind === "admin"
    ? "Signed in as the admin"
    : `Signed in as account ${state.me.accountId}`;
  notice("");
  await refreshSessions().catch((error) => notice(`Loading the numbers: ${error.message}`));
  openStream(Date.now() - REPLAY_MS);
  $("start-number").focus();
}

function signOut(message) {
  sessionStorage.removeItem(STORAGE_KEY);
  state.stream?.abort();
  state.stream = null;
  state.credential = null;
  state.me = null;
  state.sessions.clear();
  state.feeds.clear();
  state.selected = null;
  state.lastEventId = null;
  stopLinking();
  $("signed-in").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("who").textContent = "";
  notice(message ?? "");
  $("credential").focus();
}

// ---- The numbers ----

async function refreshSessions() {
  const { sessions } = await api("GET", "/sessions");
  state.sessions = new Map(sessions.map((session) => [session.phoneNumber, session]));
  renderSessions();
}

const ACTIONS = [
  ["start", "Start"],
  ["stop", "Stop"],
  ["restart", "Restart"],
  ["logout", "Log out"],
];

function renderSessions() {
  const rows = $("number-rows");
  // Statuses re-render the rows as they arrive: a keyboard user keeps the button they were on.
  const focused = rows.contains(document.activeElement)
    ? document.activeElement.getAttribute("aria-label")
    : null;
  const clustered = [...state.sessions.values()].some((session) => "node" in session);
  for (const cell of document.querySelectorAll(".node-column")) cell.hidden = !clustered;
  rows.replaceChildren(
    ...[...state.sessions.values()].sort((a, b) => a.phoneNumber.localeCompare(b.phoneNumber))
      .map((session) => {
        const phone = session.phoneNumber;
        const buttons = ACTIONS.map(([action, label]) =>
          element("button", {
            type: "button",
            "aria-label": `${label} ${phone}`,
            onclick: () => act(`${label} ${phone}`, () => lifecycle(phone, action)),
          }, label)
        );
        if (state.me?.kind === "admin") {
          buttons.push(element("button", {
            type: "button",
            class: "danger",
            "aria-label": `Delete ${phone}`,
            onclick: () => act(`Delete ${phone}`, () => remove(phone)),
          }, "Delete"));
        }
        return element(
          "tr",
          { "data-phone": phone, "aria-current": state.selected === phone ? "true" : null },
          element(
            "th",
            { scope: "row" },
            element("button", {
              type: "button",
              class: "link",
              "aria-label": `Open ${phone}`,
              onclick: () => select(phone),
            }, `+${phone}`),
          ),
          element(
            "td",
            {},
            element("span", { class: `status status-${session.status}` }, session.status),
          ),
          element("td", {}, session.engine),
          clustered ? element("td", { class: "node-column" }, session.node ?? "none") : null,
          element("td", { class: "actions" }, ...buttons),
        );
      }),
  );
  $("no-numbers").hidden = state.sessions.size > 0;
  if (focused) {
    [...rows.querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === focused)
      ?.focus();
  }
}

async function lifecycle(phone, action) {
  await api("POST", `/${phone}/${action}`);
  // A number that (re)starts unlinked shows its QR; a linked one turns to "Connected" at once.
  if (action === "start" || action === "restart") startLinking(phone);
  await refreshSessions();
}

async function remove(phone) {
  if (!confirm(`Delete +${phone}: log it out, delete its data and free the number?`)) return;
  await api("DELETE", `/${phone}`);
  if (state.selected === phone) select(null);
  if (state.linking === phone) stopLinking();
  state.sessions.delete(phone);
  renderSessions();
}

// ---- Linking a phone: the QR, the pairing code, "connected" ----

function startLinking(phone) {
  stopLinking();
  state.linking = phone;
  $("link").hidden = false;
  $("link-number").textContent = `+${phone}`;
  $("pairing-code").textContent = "";
  $("pairing-button").hidden = false;
  showLinkStatus();
  void refreshQr();
  state.qrTimer = setInterval(() => void refreshQr(), QR_REFRESH_MS);
}

function stopLinking() {
  clearInterval(state.qrTimer);
  state.qrTimer = null;
  state.linking = null;
  if (state.qrUrl) URL.revokeObjectURL(state.qrUrl);
  state.qrUrl = null;
  $("qr").hidden = true;
  $("qr-hint").hidden = true;
  $("link").hidden = true;
}

function showLinkStatus() {
  const phone = state.linking;
  if (!phone) return;
  const status = state.sessions.get(phone)?.status;
  const text = {
    WORKING: "Connected",
    SCAN_QR_CODE: "Scan the QR code with the phone",
    STARTING: "Starting…",
    FAILED: `Failed: ${state.sessions.get(phone)?.reason ?? "see the events"}`,
    STOPPED: "Stopped",
  }[status] ?? (status ?? "Starting…");
  $("link-status").textContent = text;
  $("link").dataset.status = status ?? "";
  if (status === "WORKING") {
    clearInterval(state.qrTimer);
    state.qrTimer = null;
    $("qr").hidden = true;
    $("qr-hint").hidden = true;
    $("pairing-button").hidden = true;
    $("pairing-code").textContent = "";
  }
}

async function refreshQr() {
  const phone = state.linking;
  if (!phone) return;
  const status = state.sessions.get(phone)?.status;
  if (status && status !== "SCAN_QR_CODE" && status !== "STARTING") return;
  const response = await fetch(`${API}/${phone}/qr`, {
    headers: { ...authHeaders(), Accept: "image/png" },
    credentials: "omit",
    cache: "no-store",
  }).catch(() => null);
  if (!response?.ok || state.linking !== phone) {
    await response?.body?.cancel();
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  if (state.qrUrl) URL.revokeObjectURL(state.qrUrl);
  state.qrUrl = url;
  $("qr").src = url;
  $("qr").hidden = false;
  $("qr-hint").hidden = false;
}

async function pairingCode() {
  const phone = state.linking;
  if (!phone) return;
  $("pairing-code").textContent = "Asking for a code…";
  try {
    const { code } = await api("POST", `/${phone}/pairing-code`, {});
    $("pairing-code").textContent =
      `On the phone: Linked devices, Link a device, Link with phone number instead; type ${code}`;
  } catch (error) {
    $("pairing-code").textContent = `No pairing code: ${error.message}`;
  }
}

// ---- One number: its feed, sending, its webhooks ----

function select(phone) {
  state.selected = phone;
  $("detail").hidden = phone === null;
  renderSessions();
  if (phone === null) return;
  $("detail-number").textContent = `+${phone}`;
  renderFeed();
  void act("Loading the webhooks", loadWebhooks);
}

/** A line that says what an event is about, beside its name. */
function summary(envelope) {
  const payload = envelope.payload ?? {};
  switch (envelope.event) {
    case "message":
    case "message.any":
      return `${payload.fromMe ? `to ${payload.to}` : `from ${payload.from}`}: ${
        payload.body ?? ""
      }`;
    case "message.ack":
      return `${payload.id ?? ""}: ${payload.ackName ?? payload.ack}`;
    case "session.status":
      return payload.status ?? "";
    case "state.change":
      return payload.state ?? "";
    default:
      return "";
  }
}

function renderFeed() {
  const feed = state.feeds.get(state.selected) ?? [];
  $("feed").replaceChildren(...feed.map(feedItem));
}

function feedItem(envelope) {
  const time = new Date(envelope.timestamp ?? Date.now());
  return element(
    "li",
    { "data-event": envelope.event },
    element(
      "details",
      {},
      element(
        "summary",
        {},
        element("time", { datetime: time.toISOString() }, time.toLocaleTimeString()),
        " ",
        element("strong", {}, envelope.event),
        " ",
        element("span", { class: "summary" }, summary(envelope)),
      ),
      element("pre", {}, JSON.stringify(envelope, null, 2)),
    ),
  );
}

async function sendText(form) {
  const phone = state.selected;
  const chatId = form.chatId.value.trim();
  const text = form.text.value;
  const { messageId } = await api("POST", `/${phone}/send-text`, { chatId, text });
  form.text.value = "";
  info(`Sent ${messageId}`);
}

async function loadWebhooks() {
  const phone = state.selected;
  if (!phone) return;
  const [{ webhooks }, { deliveries }] = await Promise.all([
    api("GET", `/${phone}/webhooks`),
    api("GET", `/${phone}/webhooks/deliveries?limit=20`),
  ]);
  if (state.selected !== phone) return;
  $("webhooks").replaceChildren(
    ...(webhooks.length === 0
      ? [element("li", {}, "No webhooks for this number.")]
      : webhooks.map((hook) =>
        element("li", {}, element("code", {}, hook.url), ` (${hook.events.join(", ")})`)
      )),
  );
  if (deliveries.length === 0) {
    $("deliveries").replaceChildren(
      element("tr", {}, element("td", { colspan: 7 }, "No deliveries yet.")),
    );
    return;
  }
  $("deliveries").replaceChildren(...deliveries.map((delivery) =>
    element(
      "tr",
      { "data-status": delivery.status },
      element("td", {}, delivery.event),
      element("td", {}, element("code", {}, delivery.url)),
      element("td", {}, delivery.status),
      element("td", {}, String(delivery.attempts)),
      element("td", {}, delivery.lastError ?? ""),
      element("td", {}, new Date(delivery.updatedAt).toLocaleTimeString()),
      element(
        "td",
        {},
        delivery.status === "failed"
          ? element("button", {
            type: "button",
            "aria-label": `Retry delivery ${delivery.id}`,
            onclick: () =>
              act("Retry", async () => {
                await api("POST", `/${phone}/webhooks/deliveries/${delivery.id}/retry`);
                await loadWebhooks();
              }),
          }, "Retry")
          : null,
      ),
    )
  ));
}

// ---- The stream of every number ----

/** Follows `GET /events` until signed out, resuming after the last event when it drops. */
function openStream(since) {
  const controller = new AbortController();
  state.stream = controller;
  void (async () => {
    let retryMs = 2_000;
    let first = true;
    while (!controller.signal.aborted) {
      const headers = authHeaders();
      if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
      const query = first && !state.lastEventId ? `?since=${since}` : "";
      first = false;
      try {
        const response = await fetch(`${API}/events${query}`, {
          headers,
          credentials: "omit",
          cache: "no-store",
          signal: controller.signal,
        });
        if (response.status === 401) {
          signOut("The credential was refused: sign in again.");
          return;
        }
        if (!response.ok) throw new Error(`the stream answered ${response.status}`);
        retryMs = await readStream(response.body, retryMs);
      } catch (error) {
        if (controller.signal.aborted) return;
        console.warn("event stream", error);
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  })();
}

/** Reads SSE messages until the stream ends; answers the `retry:` the server asked for. */
async function readStream(body, retryMs) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return retryMs;
    buffer += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id = null;
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("id:")) id = line.slice(3).trim();
        else if (line.startsWith("data:")) data += (data ? "\n" : "") + line.slice(5).trimStart();
        else if (line.startsWith("retry:")) retryMs = Number(line.slice(6)) || retryMs;
      }
      if (id) state.lastEventId = id;
      if (data) onEvent(JSON.parse(data));
    }
  }
}

function onEvent(envelope) {
  const phone = envelope.session;
  if (!phone) return; // stream.gap: what was missed cannot be shown
  const feed = state.feeds.get(phone) ?? [];
  feed.unshift(envelope);
  if (feed.length > FEED_MAX) feed.length = FEED_MAX;
  state.feeds.set(phone, feed);
  if (state.selected === phone) $("feed").prepend(feedItem(envelope));
  if (envelope.event === "session.status") {
    const session = state.sessions.get(phone);
    if (!session) {
      void refreshSessions().catch(() => {});
      return;
    }
    session.status = envelope.payload.status;
    session.reason = envelope.payload.reason ?? session.reason;
    renderSessions();
    if (state.linking === phone) showLinkStatus();
    if (state.linking === phone && envelope.payload.status === "SCAN_QR_CODE") void refreshQr();
  }
}

// ---- Wiring ----

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const credential = $("credential").value.trim();
  if (credential) void signIn(credential);
});
$("sign-out").addEventListener("click", () => signOut());
$("start-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const phone = form.phoneNumber.value.replace(/^\+/, "");
  const engine = form.engine.value;
  void act(`Start ${phone}`, async () => {
    await api("POST", `/${phone}/start`, engine ? { engine } : {});
    form.reset();
    startLinking(phone);
    await refreshSessions();
    showLinkStatus();
    select(phone);
  });
});
$("pairing-button").addEventListener("click", () => void pairingCode());
$("send-form").addEventListener("submit", (event) => {
  event.preventDefault();
  void act("Send", () => sendText(event.currentTarget));
});
$("webhooks-refresh").addEventListener("click", () => void act("Webhooks", loadWebhooks));

const saved = sessionStorage.getItem(STORAGE_KEY);
if (saved) void signIn(saved);
