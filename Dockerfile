# syntax=docker/dockerfile:1.7
# Tickwatch container: node builds the SPA, Go builds a static binary, and the
# runtime image holds only that binary, CA certificates and a non-root user.

# --- 1. SPA -----------------------------------------------------------------
FROM node:20.19.5-bookworm-slim AS spa
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY vite.config.ts svelte.config.js tsconfig*.json ./
COPY frontend/ ./frontend/
RUN npm run build

# --- 2. Go binary -----------------------------------------------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The freshly built SPA replaces whatever dist the context carried.
COPY --from=spa /src/frontend/dist ./frontend/dist
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" -o /out/tickwatch .
# An empty DATA_DIR to copy into the shell-less runtime image.
RUN mkdir -p /out/data

# --- 3. Runtime -------------------------------------------------------------
# distroless/static: CA certificates (wss:// upstream), tzdata, /etc/passwd
# with the nonroot user (65532), no shell.
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
# The binary probes its own /healthz (no curl in a distroless image).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/tickwatch", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/tickwatch"]
