# Build: the `dist` profile (fat LTO), with SQLite and libpq (TLS-capable) compiled in.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --profile dist --bin ppe

# Run: the binary links libc and OpenSSL; curl serves the health check.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/ppe ppe && mkdir -p /var/lib/ppe && chown ppe /var/lib/ppe
COPY --from=build /src/target/dist/ppe /usr/local/bin/ppe
USER ppe
WORKDIR /var/lib/ppe
ENV PPE_BIND=0.0.0.0:8080 RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/readyz >/dev/null || exit 1
# SIGTERM drains requests in flight and queued writes (see --shutdown-timeout).
STOPSIGNAL SIGTERM
ENTRYPOINT ["ppe"]
CMD ["serve"]
