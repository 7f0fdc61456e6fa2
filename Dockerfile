# sessiond container image. Two stages: the build stage compiles TypeScript with the dev
# dependencies; the runtime stage holds production dependencies, the compiled code and the SQL
# migrations only, and runs as the unprivileged `node` user.
#
# The Node base is pinned to an exact release; bump it deliberately (and rebuild) for security fixes.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; fail the build now if a native binding does not load on this
# platform (each ships as a per-platform optional dependency): argon2, and the one that lowers the
# hashing threads' priority (HASH_NICE).
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force \
    && node -e "require('@node-rs/argon2').hashSync('probe'); require('@napi-rs/nice')"
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
USER node
EXPOSE 3000
# No curl in slim images: Node's fetch does the probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The server applies pending migrations before listening (MIGRATE_ON_START=true, the default),
# under a PostgreSQL advisory lock, so replicas starting together never race. With
# MIGRATE_ON_START=false run `node dist/db/migrate-cli.js` in this image before rolling out.
# node is PID 1 and handles SIGTERM itself (close-with-grace): stop accepting, finish in-flight
# requests, close Redis and PostgreSQL, exit 0 within 10 s.
CMD ["node", "dist/server.js"]
