/**
 * @module
 * A real PostgreSQL server for the tests, of their own, on a free loopback port: Debian's
 * `postgresql` binaries run in a temporary folder (as the `postgres` system user when the tests run
 * as root, since `initdb` refuses root), stopped and removed by `stop()`. Nothing is mocked: the
 * store suite, the cluster tests and the migration test talk to this server.
 *
 * When the binaries are missing, a test run as root installs them (`apt-get install postgresql`,
 * as `.ci/run` does); otherwise it fails with the exact command to run. It never skips.
 */
import { freePort } from "./_helpers.ts";

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/<database>` */
  url: string;
  port: number;
  /** A fresh, empty database on this server; its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server abruptly (`-m immediate`), keeping its files, to be started again. */
  kill(): Promise<void>;
  /** Starts the server again on the same port after `kill()`. */
  restart(): Promise<void>;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const INSTALL = "apt-get install -y postgresql";
let installing: Promise<string> | null = null;

async function binaries(): Promise<string> {
  const root = "/usr/lib/postgresql";
  const versions: number[] = [];
  try {
    for await (const entry of Deno.readDir(root)) {
      if (entry.isDirectory && /^\d+$/.test(entry.name)) versions.push(Number(entry.name));
    }
  } catch {
    // Not installed.
  }
  versions.sort((a, b) => b - a);
  for (const version of versions) {
    const bin = `${root}/${version}/bin`;
    if (await exists(`${bin}/initdb`)) return bin;
  }
  return "";
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function isRoot(): boolean {
  return Deno.uid() === 0;
}

async function run(command: string, args: string[], asPostgres: boolean): Promise<void> {
  const [cmd, argv] = asPostgres ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [
    command,
    args,
  ];
  const output = await new Deno.Command(cmd, { args: argv, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr) ||
      new TextDecoder().decode(output.stdout);
    throw new Error(`${command} ${args.join(" ")} failed: ${text.trim()}`);
  }
}

/** The folder with `initdb` and `pg_ctl`, installing PostgreSQL first when root may. */
function findOrInstall(): Promise<string> {
  installing ??= (async () => {
    let bin = await binaries();
    if (bin) return bin;
    if (!isRoot()) {
      throw new Error(
        `PostgreSQL is not installed; the tests need its server. Run: sudo ${INSTALL}`,
      );
    }
    await run("apt-get", ["update", "-qq"], false);
    await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "postgresql"], false);
    bin = await binaries();
    if (!bin) throw new Error(`PostgreSQL did not install. Run: ${INSTALL}`);
    return bin;
  })();
  return installing;
}

/** Starts a PostgreSQL server of the test's own; `await using` stops it. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = await findOrInstall();
  const asPostgres = isRoot();
  const dir = await Deno.makeTempDir({ prefix: "wa-gateway-pg-" });
  if (asPostgres) await run("chown", ["postgres", dir], false);
  const data = `${dir}/data`;
  await run(
    `${bin}/initdb`,
    ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
    asPostgres,
  );
  const port = freePort();
  // No fsync: the tests kill servers, not machines.
  const options = `-p ${port} -k ${dir} -h 127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = () =>
    run(
      `${bin}/pg_ctl`,
      ["-D", data, "-o", options, "-l", `${dir}/log`, "-w", "start"],
      asPostgres,
    );
  const halt = () => run(`${bin}/pg_ctl`, ["-D", data, "-m", "immediate", "stop"], asPostgres);
  await start();
  const base = `postgres://postgres@127.0.0.1:${port}`;
  let databases = 0;
  let running = true;

  const server: TestPostgres = {
    url: `${base}/postgres`,
    port,
    async createDatabase(name = `test_${++databases}_${crypto.randomUUID().slice(0, 8)}`) {
      await run(
        `${bin}/psql`,
        [
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          "postgres",
          "-c",
          `CREATE DATABASE "${name}"`,
        ],
        false,
      );
      return `${base}/${name}`;
    },
    async kill() {
      if (!running) return;
      running = false;
      await halt();
    },
    async restart() {
      if (running) return;
      await start();
      running = true;
    },
    async stop() {
      if (running) await halt().catch(() => {});
      running = false;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    [Symbol.asyncDispose]() {
      return server.stop();
    },
  };
  return server;
}
