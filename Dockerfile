# wa-gateway: Deno + Debian's Chromium, dependencies cached at build time, non-root, data in a volume.
FROM denoland/deno:debian-2.9.6

RUN apt-get update \
  && apt-get install -y --no-install-recommends \
    chromium chromium-headless-shell fonts-liberation fonts-noto-color-emoji ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Deno's cache inside the app folder, so the non-root user owns it too.
ENV DENO_DIR=/app/.deno-cache
# Dependencies first, in their own layer: rebuilt only when deno.json or deno.lock change.
COPY deno.json deno.lock ./
RUN deno install --frozen
# Then the code, compiled into the cache too, so the container starts offline.
COPY . .
RUN deno cache main.ts sessions/worker.ts sessions/wwebjs_engine.ts sessions/simulator.ts

RUN useradd --create-home --uid 10001 wa \
  && mkdir -p /data && chown -R wa:wa /data /app
USER wa

# Chromium's own sandbox needs user namespaces that Docker's default seccomp profile denies: the
# container is the boundary here (set CHROMIUM_NO_SANDBOX=false with a seccomp profile for both).
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

# tini reaps the Chromium helpers that a killed browser leaves to PID 1.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["deno", "run", "--allow-all", "--cached-only", "main.ts"]
