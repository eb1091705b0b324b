# jitbot server image.
#
#   docker build -t jitbot .
#   docker build --build-arg NODE_IMAGE=<your mirror>/node:22-bookworm-slim -t jitbot .   # e.g. where Docker Hub is slow
#   docker run --rm -p 3000:3000 \
#     -v "$PWD/jitbot.yaml:/config/jitbot.yaml:ro" -e JITBOT_CONFIG=/config/jitbot.yaml \
#     -e AWS_REGION=cn-north-1 jitbot
#
# To be reachable through -p, the config must set `server.host: 0.0.0.0`. The local console has no
# authentication and binds to loopback only, so with 0.0.0.0 it must be disabled; the image is for chat
# platforms' webhooks (the built-in demo starts, but answers only inside the container). AWS credentials come
# the usual way (task/instance role, AWS_* variables). The embedded store keeps its data in /app/.jitbot:
# mount a volume there (-v jitbot-data:/app/.jitbot), or use a DynamoDB table in production (infra/README.md).

# Node 22 LTS: package.json engines (>=22.12), enforced by .npmrc's engine-strict.
ARG NODE_IMAGE=node:22-bookworm-slim

# ── build: all dependencies, compile, then drop dev dependencies ──────────────────────────────────────
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# npm ci installs exactly the committed lockfile; .npmrc carries the project's npm settings.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
COPY scripts ./scripts
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ── runtime: compiled JavaScript and production dependencies only ─────────────────────────────────────
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The embedded store's default data directory (./.jitbot, file jitbot.db) must be writable by the non-root user.
RUN mkdir -p /app/.jitbot && chown node:node /app/.jitbot
# "node" (uid 1000) comes with the official image.
USER node
EXPOSE 3000
# Override JITBOT_HEALTHCHECK_URL when the config uses another port.
ENV JITBOT_HEALTHCHECK_URL=http://127.0.0.1:3000/healthz
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.JITBOT_HEALTHCHECK_URL, { signal: AbortSignal.timeout(4000) }).then((res) => process.exit(res.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/cli/main.js", "start"]
