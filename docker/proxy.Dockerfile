# The proxy service's image: the built-in gateway and a Node runtime, nothing
# else. Build context (cctl init lays it out as .cctl/proxy/):
#
#   Dockerfile    this file
#   gateway/      the compiled gateway package (every .js under dist/gateway/, subfolders
#                 included); node builtins only. It is also the egress proxy (CONNECT).
#   certs/        optional extra-ca.crt (PEM, may hold several certificates)
#
# Builds with BuildKit and with the classic builder (no RUN --mount, no
# COPY --chmod), on Alpine or Debian bases: it needs only sh and node.

ARG BASE_IMAGE=node:22-bookworm-slim
FROM ${BASE_IMAGE}

USER root
WORKDIR /app

COPY gateway/ /app/gateway/
COPY certs/ /tmp/cctl-certs/

# The gateway is an ES module; the package.json says so explicitly, so it does
# not rely on the module-syntax detection that only newer Node versions have.
#
# certs/extra-ca.crt lets the gateway reach the upstream through a
# TLS-inspecting proxy: Node adds NODE_EXTRA_CA_CERTS to its built-in roots.
# Without one the file is left empty, which Node accepts silently (a missing
# file would print a warning on every start).
RUN set -eu; \
    printf '{"type":"module","private":true}\n' > /app/package.json; \
    mkdir -p /app/certs; \
    if [ -s /tmp/cctl-certs/extra-ca.crt ]; then \
      grep -q -- '-----BEGIN CERTIFICATE-----' /tmp/cctl-certs/extra-ca.crt \
        || { echo "certs/extra-ca.crt holds no PEM certificate" >&2; exit 1; }; \
      cp /tmp/cctl-certs/extra-ca.crt /app/certs/extra-ca.crt; \
    else \
      : > /app/certs/extra-ca.crt; \
    fi; \
    rm -rf /tmp/cctl-certs; \
    mkdir -p /data; chown 65534:65534 /data; \
    chmod -R a+rX /app; \
    node --check /app/gateway/main.js

# MALLOC_TRIM_THRESHOLD_: Node reads every socket that has no reused buffer
# (a tunnel's client side, the API's streams) into a fresh 64 KiB block. With
# glibc's default, each scavenge frees a batch of them, the heap top is handed
# back to the kernel, and the next reads fault the pages in again: 80-260 page
# faults per MB uploaded through a tunnel and 3-4x the CPU of the download
# side (bench/egress.ts). Keeping up to 32 MiB of free heap top ends that
# (under 5 faults per MB). musl (Alpine bases) ignores it. bench/egress.ts and
# test/gateway/egress-upload.test.ts run the gateway with these variables.
ENV NODE_ENV=production \
    PORT=3000 \
    NODE_EXTRA_CA_CERTS=/app/certs/extra-ca.crt \
    MALLOC_TRIM_THRESHOLD_=33554432

# nobody:nogroup by number, which every base has; the gateway writes nothing
# to disk, and secrets arrive by environment or read-only *_FILE mounts. The
# one exception is a team gateway's ledger in /data: owned by nobody here, so
# a new named volume mounted there starts out writable for it.
USER 65534:65534

EXPOSE 3000

# Every 5 s: Docker 20.10 runs the first check only after one interval (no
# --start-interval yet), and `cctl up` waits for healthy.
HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/app/gateway/main.js", "health"]

# Exec form: node is PID 1 and receives SIGTERM directly; the gateway handles
# it and drains requests in flight before exiting.
CMD ["node", "/app/gateway/main.js"]

LABEL org.opencontainers.image.title="cctl proxy" \
      org.opencontainers.image.description="cctl's built-in API gateway for Claude Code" \
      org.opencontainers.image.licenses="MIT"

# Last, so a new hash only re-labels: cctl compares this label with the hash
# of the build files and settings to tell whether the image is stale.
ARG CCTL_BUILD_HASH=""
LABEL dev.cctl.build-hash="${CCTL_BUILD_HASH}"
