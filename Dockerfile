# syntax=docker/dockerfile:1
# matrix-sfu container image. Build: docker build -t matrix-sfu .
# Run (host networking keeps the UDP range simple):
#   docker run --init --network host -v /srv/sfu:/data matrix-sfu
# /data holds config.yaml and registration.yaml (see README).
#
# The build stage runs the same commands as CI (.ci/run: `npm ci`, then the build inside `npm test`);
# .ci/docker-steps repeats the deps and runtime stages without Docker.
ARG NODE_IMAGE=node:22.22.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
# npm ci's install script builds the native SRTP add-on (scripts/build-native.js); without a C compiler, as in
# this stage, it prints one line and the pure-TypeScript SRTP is used (this stage only compiles dist/).
COPY scripts ./scripts
COPY native ./native
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
COPY client ./client
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# A C compiler for the native SRTP add-on (build/native/sfu_native.node, copied into the runtime image, which
# has no compiler): against the image's own Node headers, no network beyond Debian's packages.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY packages ./packages
COPY scripts ./scripts
COPY native ./native
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/packages ./packages
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/build ./build
COPY --from=build /app/dist ./dist
COPY config.example.yaml registration.example.yaml ./
USER node
# 8080: health/metrics/status (http.port); 9000: appservice API (appservice.port);
# 40000-49999/udp: WebRTC media (media.port_range).
EXPOSE 8080/tcp 9000/tcp 40000-49999/udp
# The probe asks the listener the config names (http.bind/http.port); with the config elsewhere than
# /data/config.yaml, override it: --health-cmd "node dist/src/main.js --healthcheck -c /path/config.yaml".
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "dist/src/main.js", "--healthcheck", "-c", "/data/config.yaml"]
ENTRYPOINT ["node", "--enable-source-maps", "--initial-old-space-size=256", "--no-memory-reducer", "dist/src/main.js"]
CMD ["-c", "/data/config.yaml"]
