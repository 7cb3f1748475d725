# The agent worker (runtime/agent/main.ts), bundled by esbuild into one file on a slim Node image.
# Built and pushed by `pulumi up` (infra/components/worker-image.ts) for linux/arm64, or by hand:
#   docker buildx build --platform linux/arm64 -f docker/worker.Dockerfile -t <repo>:<tag> --push .
# The build context is the repository root; docker/worker.Dockerfile.dockerignore keeps it small.

# Bundling is platform-independent: run it on the build machine's platform (no emulation).
FROM --platform=$BUILDPLATFORM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY runtime ./runtime
# The same bundle options as the local pool's workers (runtime/local/worker-bundle.ts): the AWS SDK's
# ES builds tree-shake to the commands used, and no comments keep the source one-byte text.
RUN npx esbuild runtime/agent/main.ts --bundle --platform=node --target=node20 --format=cjs \
      --main-fields=module,main --minify-whitespace --keep-names \
      --legal-comments=none --outfile=dist/agent.js

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# glibc hands freed start-up memory back (measured: ~10 MB less RSS per idle worker; see supervisor.ts).
ENV MALLOC_MMAP_THRESHOLD_=32768
WORKDIR /app
COPY --from=build /src/dist/agent.js ./agent.js
# The task runs with a read-only root filesystem; the worker writes nothing but stdout/stderr.
USER node
# SIGTERM from ECS reaches node directly (exec form): the worker drains, then exits.
# Small young-generation semispaces: an idle worker keeps less memory (see runtime/local/supervisor.ts).
CMD ["node", "--max-semi-space-size=1", "agent.js"]
