# Sightline server image. Build from the repository root:
#
#   docker build -t sightline .
#   docker build --build-arg WITH_FFMPEG=0 -t sightline:no-ffmpeg .   # smaller, but no --record-dir
#
#   docker run --init -p 8080:8080 -p 40000-40100:40000-40100/udp \
#     -e SIGHTLINE_ANNOUNCED_IP=203.0.113.10 -e SIGHTLINE_API_KEYS=… -v sightline-data:/data sightline
#
# See docs/DEPLOY.md (compose with coturn and PostgreSQL, TLS, scaling, Kubernetes).
#
# Debian 12 (glibc), not Alpine: node-av and onnxruntime-node ship glibc binaries only.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------------------------------
# toolchain: the manifests and what native installs need (better-sqlite3 compiles with node-gyp when its prebuilt
# binary cannot be downloaded).
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# onnxruntime-node's install script downloads CUDA binaries and fails offline; its CPU binaries ship in the package.
# node-av's postinstall downloads an ffmpeg CLI that nothing here uses (its libraries ship in its binary package).
# node-gyp builds against the headers that come with the image's Node instead of downloading them.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    SKIP_FFMPEG=true \
    npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/media/package.json packages/media/
COPY packages/client/package.json packages/client/
COPY packages/node/package.json packages/node/
COPY packages/server/package.json packages/server/
COPY packages/demo/package.json packages/demo/

# ---------------------------------------------------------------------------------------------------------------------
# deps: production node_modules only (workspace links included), exactly as locked. Then drop what this platform
# never loads: onnxruntime-node's macOS/Windows/other-arch binaries (~220 MB) and better-sqlite3's build leftovers.
FROM toolchain AS deps
RUN npm ci --omit=dev \
 && arch="$(node -p process.arch)" \
 && for d in node_modules/onnxruntime-node/bin/napi-v*/*; do [ "${d##*/}" = linux ] || rm -rf "$d"; done \
 && for d in node_modules/onnxruntime-node/bin/napi-v*/linux/*; do [ "${d##*/}" = "$arch" ] || rm -rf "$d"; done \
 && rm -rf node_modules/better-sqlite3/build/Release/obj node_modules/better-sqlite3/build/Release/obj.target \
           node_modules/better-sqlite3/build/Release/.deps node_modules/better-sqlite3/build/Release/test_extension.node \
           node_modules/better-sqlite3/deps node_modules/better-sqlite3/src

# ---------------------------------------------------------------------------------------------------------------------
# build: TypeScript (tsc -b), the protocol's JSON Schema and the demo page (Vite).
FROM toolchain AS build
RUN npm ci
COPY tsconfig.base.json tsconfig.json ./
COPY packages/ packages/
RUN npm run build

# ---------------------------------------------------------------------------------------------------------------------
# runtime: Node, production node_modules, built output and the vendored models; no compiler, no sources.
FROM ${NODE_IMAGE} AS runtime
# ffmpeg is needed only for recording (--record-dir); Debian's package adds a few hundred MB. WITH_FFMPEG=0 leaves it out.
ARG WITH_FFMPEG=1
RUN if [ "$WITH_FFMPEG" = "1" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends ffmpeg \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && mkdir -p /data/recordings \
 && chown -R node:node /data
# Media on a fixed UDP range (publish it and set SIGHTLINE_ANNOUNCED_IP to the public IPv4); the SQLite file on /data
# (used only when DATABASE_URL is not set).
ENV NODE_ENV=production \
    SIGHTLINE_HOST=0.0.0.0 \
    SIGHTLINE_PORT=8080 \
    SIGHTLINE_RTC_PORT_MIN=40000 \
    SIGHTLINE_RTC_PORT_MAX=40100 \
    SIGHTLINE_DB=/data/sightline.db
WORKDIR /app
# Owned by root and read-only to the server; only /data is writable.
COPY --from=deps /app/ ./
COPY --from=build /app/packages/protocol/dist packages/protocol/dist
COPY --from=build /app/packages/media/dist packages/media/dist
COPY --from=build /app/packages/client/dist packages/client/dist
COPY --from=build /app/packages/node/dist packages/node/dist
COPY --from=build /app/packages/server/dist packages/server/dist
COPY --from=build /app/packages/server/bin packages/server/bin
COPY --from=build /app/packages/server/models packages/server/models
COPY --from=build /app/packages/server/proto packages/server/proto
COPY --from=build /app/packages/demo/dist packages/demo/dist
COPY LICENSE ./
USER node
EXPOSE 8080/tcp
EXPOSE 40000-40100/udp
# The server drains on SIGTERM (readiness false, sessions told, database flushed) and exits 0: give it longer than
# --drain-timeout-ms (compose stop_grace_period, Kubernetes terminationGracePeriodSeconds). Run with --init (tini).
STOPSIGNAL SIGTERM
# Ready = every inference worker has loaded its models; 503 while starting or draining. No curl in slim: Node's fetch.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SIGHTLINE_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "packages/server/dist/cli/main.js"]
CMD ["serve"]
