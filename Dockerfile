# Build: the whole workspace in release, with SQLite and libpq compiled in.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin ppe

# Run: the binary links only libc.
FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/ppe ppe && mkdir -p /var/lib/ppe && chown ppe /var/lib/ppe
COPY --from=build /src/target/release/ppe /usr/local/bin/ppe
USER ppe
WORKDIR /var/lib/ppe
ENV PPE_BIND=0.0.0.0:8080 RUST_LOG=info
EXPOSE 8080
ENTRYPOINT ["ppe"]
CMD ["serve"]
