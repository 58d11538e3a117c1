# syntax=docker/dockerfile:1.7
# Tickwatch container: node builds the SPA, Go builds a static binary, and the
# runtime image holds only that binary, CA certificates and a non-root user.
#
# Multi-platform: the two build stages run on the builder's own platform
# ($BUILDPLATFORM) and Go cross-compiles for $TARGETOS/$TARGETARCH, so
#   docker buildx build --platform linux/amd64,linux/arm64 -t tickwatch .
# needs no emulation.

# --- 1. SPA -----------------------------------------------------------------
# The bundle is plain JS/CSS, the same for every target: built once, natively.
FROM --platform=$BUILDPLATFORM node:20.19.5-bookworm-slim AS spa
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY vite.config.ts svelte.config.js tsconfig*.json ./
COPY frontend/ ./frontend/
# vite empties frontend/dist first (emptyOutDir); .dockerignore keeps the
# committed dist out of the context anyway.
RUN npm run build

# --- 2. Go binary -----------------------------------------------------------
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
# The context has no frontend/dist (.dockerignore), so this is the whole
# embedded SPA: exactly what stage 1 built, no stale hashed assets beside it.
COPY --from=spa /src/frontend/dist ./frontend/dist
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
# No blanket `go mod download`: go.mod also pins Task as a tool, whose
# dependencies are ~1.2 GB. `go build` fetches only the modules the binary
# imports (28), into a cache mount that later builds reuse, as is the build cache.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" -o /out/tickwatch .
# An empty DATA_DIR to copy into the shell-less runtime image.
RUN mkdir -p /out/data

# --- 3. Runtime -------------------------------------------------------------
# distroless/static: CA certificates (wss:// upstream), tzdata, /etc/passwd
# with the nonroot user (65532), no shell. Pulled for the target platform.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tickwatch /usr/local/bin/tickwatch
# DATA_DIR: the store (admin changes, audit log, credentials). Owned by the
# nonroot user (0700) so a fresh named volume, which Docker fills from the
# image, is writable by it too.
COPY --from=build --chown=65532:65532 --chmod=0700 /out/data /data
USER nonroot:nonroot
# DATA_DIR (API tokens) must be writable by nonroot; mount a volume there
# to keep tokens across container replacements.
ENV HTTP_ADDR=:8080 \
    LOG_FORMAT=json \
    DATA_DIR=/data
VOLUME /data
EXPOSE 8080
# The binary probes its own /healthz on the host HTTP_ADDR binds (loopback
# for ":8080"); a distroless image has no curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/tickwatch", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/tickwatch"]
