/**
 * @module
 * A small forward proxy on 127.0.0.1 for tests: `CONNECT host:port` tunnels and absolute-form
 * requests (`GET http://host:port/path`), with Basic authentication when given a user. It counts
 * what passes through it by target, and what it refused, so a test can see that a Chromium's
 * traffic went through it, and with which credentials.
 */
import { Buffer } from "node:buffer";
import { connect, createServer, type Server, type Socket } from "node:net";

export interface ProxyPass {
  /** `CONNECT` or the request's method. */
  method: string;
  /** `host:port` the request went to. */
  target: string;
  /** The user it authenticated as, or null (no authentication asked). */
  user: string | null;
}

export interface ForwardProxy {
  port: number;
  /** `http://127.0.0.1:<port>`, with `user:password@` when it asks for them. */
  url: string;
  /** What it let through, oldest first. */
  passed: ProxyPass[];
  /** Requests it answered 407 (no or wrong credentials). */
  challenged: number;
  /** How many requests went to `target` (`host:port`). */
  countTo(target: string): number;
  close(): Promise<void>;
}

const HEAD_END = Buffer.from("\r\n\r\n");
const MAX_HEAD = 64 * 1024;

/** Starts the proxy; with `auth`, every request must carry those credentials (Basic). */
export async function startForwardProxy(
  auth?: { user: string; password: string },
): Promise<ForwardProxy> {
  const passed: ProxyPass[] = [];
  const sockets = new Set<Socket>();
  const state = { challenged: 0 };
  const expected = auth ? `Basic ${btoa(`${auth.user}:${auth.password}`)}` : null;

  const server: Server = createServer((client) => {
    track(client);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) {
        if (head.length > MAX_HEAD) client.destroy();
        return;
      }
      client.off("data", onData);
      client.pause();
      handle(client, head.subarray(0, end + 4), head.subarray(end + 4));
    };
    client.on("data", onData);
  });

  function track(socket: Socket) {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  }

  function handle(client: Socket, head: Buffer, rest: Buffer) {
    const lines = head.toString("latin1").split("\r\n");
    const [method, requestTarget] = lines[0].split(" ");
    const header = (name: string) =>
      lines.find((line) => line.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1)
        .trim();
    if (expected && header("proxy-authorization") !== expected) {
      state.challenged++;
      client.end(
        "HTTP/1.1 407 Proxy Authentication Required\r\n" +
          'Proxy-Authenticate: Basic realm="test proxy"\r\n' +
          "Content-Length: 0\r\nConnection: close\r\n\r\n",
      );
      return;
    }
    let target: string;
    if (method === "CONNECT") {
      target = requestTarget;
    } else {
      try {
        const url = new URL(requestTarget);
        target = `${url.hostname}:${url.port || (url.protocol === "https:" ? 443 : 80)}`;
      } catch {
        client.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
      }
    }
    passed.push({ method, target, user: auth ? auth.user : null });
    const colon = target.lastIndexOf(":");
    const upstream = connect(Number(target.slice(colon + 1)), target.slice(0, colon));
    track(upstream);
    upstream.on("connect", () => {
      if (method === "CONNECT") {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      } else {
        upstream.write(head);
      }
      if (rest.length > 0) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: auth
      ? `http://${encodeURIComponent(auth.user)}:${
        encodeURIComponent(auth.password)
      }@127.0.0.1:${port}`
      : `http://127.0.0.1:${port}`,
    passed,
    get challenged() {
      return state.challenged;
    },
    countTo: (target) => passed.filter((pass) => pass.target === target).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
