# syntax=docker/dockerfile:1
#
# The authdash image: one static binary with the go-app frontend (app.wasm
# and its precompressed forms) embedded, on distroless, as a non-root user.
#
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t authdash .
#   docker run -p 8080:8080 -e JWT_SECRET=$(openssl rand -base64 48) -v authdash:/data authdash
#
# The build commands are those of `make wasm embedweb build`; deploy's tests
# run this file's `go build` steps on the checkout to keep them working.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends brotli && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev

# The frontend, where -tags embedweb embeds it (as `make embedweb`).
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    mkdir -p app/frontend/dist && \
    GOOS=js GOARCH=wasm go build -trimpath -ldflags '-s -w' -o app/frontend/dist/app.wasm ./wasm
RUN gzip -9 -k -f app/frontend/dist/app.wasm && \
    brotli -q 11 -f -o app/frontend/dist/app.wasm.br app/frontend/dist/app.wasm

# The server: static, reproducible paths, version stamped.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -tags embedweb -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/authdash ./cmd/authdash
# The data directory, owned by the image's non-root user (65532).
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authdash /authdash
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot:nonroot
# Production defaults; JWT_SECRET and METRICS_TOKEN must come from the
# environment (a Secret). METRICS_ADDR listens on all interfaces inside the
# container so Prometheus can scrape the pod, hence the token; publish only
# 8080 (k8s: a NetworkPolicy admits 9090 from the monitoring namespace only).
ENV ENV=production \
    ADDR=:8080 \
    DATA_DIR=/data \
    LOG_FORMAT=json \
    LOG_LEVEL=info \
    METRICS_ADDR=:9090
EXPOSE 8080 9090
VOLUME /data
# No shell or curl in distroless: the binary checks itself.
HEALTHCHECK --interval=15s --timeout=4s --start-period=10s --retries=3 CMD ["/authdash", "healthcheck"]
ENTRYPOINT ["/authdash"]
