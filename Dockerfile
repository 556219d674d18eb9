# wa-gateway: Deno + Debian's Chromium, dependencies cached at build time, code owned by root and
# read-only to the non-root runtime user, data in a volume, Deno's permissions narrowed
# (`deno task serve`, see deno.json).
FROM denoland/deno:debian-2.9.6

RUN apt-get update \
  && apt-get install -y --no-install-recommends \
    chromium chromium-headless-shell fonts-liberation fonts-noto-color-emoji ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Deno's cache inside the app folder: filled at build time, only read at run time.
ENV DENO_DIR=/app/.deno-cache
# Dependencies first, in their own layer: rebuilt only when deno.json or deno.lock change.
COPY deno.json deno.lock ./
RUN deno install --frozen
# Then the code, compiled into the cache too, so the container starts offline. Everything stays
# root's: the runtime user may read it all (npm tarballs keep their own modes, some 0640, and a
# checkout's modes follow its umask) and write none of it.
COPY . .
RUN deno cache main.ts sessions/manager.ts sessions/spawner_worker.ts sessions/engines/wwebjs/worker.ts sessions/engines/simulator/worker.ts \
    events/webhook_sender_worker.ts store/postgres/store.ts store/sqlite/store.ts store/migrate_to_postgres.ts \
  && find /app \( ! -perm -a+r -o -type d ! -perm -a+x \) -exec chmod a+rX {} + \
  && find /app ! -type l -perm /go+w -exec chmod go-w {} +

# Only /data is the runtime user's.
RUN useradd --create-home --uid 10001 wa \
  && mkdir -p /data && chown wa:wa /data && chmod 700 /data
USER wa

# Chromium's own sandbox needs user namespaces that Docker's default seccomp profile denies: the
# container is the boundary here (set CHROMIUM_NO_SANDBOX=false with a seccomp profile for both).
# DATA_DIR is also the only folder the serve task may write to (--allow-write=$DATA_DIR).
ENV PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    WA_ENGINE=wwebjs \
    CHROME_PATH=/usr/bin/chromium-headless-shell \
    CHROMIUM_NO_SANDBOX=true \
    HOME=/home/wa
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:' + (Deno.env.get('PORT') ?? '3000') + '/api/whatsapp/health'); Deno.exit(r.ok ? 0 : 1)"]

# tini reaps the Chromium helpers that a killed browser leaves to PID 1; `deno task` passes
# SIGTERM on to the server, which stops its sessions and exits 0.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["deno", "task", "serve"]
