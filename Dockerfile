# syntax=docker/dockerfile:1
# Jiban's image: the `jiban` binary on Debian slim, run as a non-root user. docker-compose.yml
# runs two of these on one PostgreSQL; on its own it serves an SQLite file in
# /var/lib/jiban (mount a volume there to keep it).
#
#   docker build -t jiban .
#   docker run -p 8080:8080 -v jiban-data:/var/lib/jiban jiban

# --- Build ------------------------------------------------------------------------------
# SQLite, libpq and OpenSSL are compiled from bundled sources (perl and make, both in this
# image), so no -dev package is needed and the binary links only libc, libm and libgcc_s.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# The caches keep downloaded crates and compiled dependencies between builds on one
# machine; the binary is copied out because a cache mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p jiban-api \
    && cp target/release/jiban /usr/local/bin/jiban

# --- Run --------------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: TLS to a mail server or a database that is not on this host.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A fixed uid, so a volume's owner is the same in every container built from this file.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/jiban \
        --shell /usr/sbin/nologin jiban \
    && install -d -o jiban -g jiban -m 0750 /var/lib/jiban
COPY --from=builder /usr/local/bin/jiban /usr/local/bin/jiban

ENV JIBAN_BIND=0.0.0.0:8080 \
    JIBAN_DATABASE_URL=sqlite:///var/lib/jiban/jiban.db
# The data folder (a generated JWT secret; `./data` when the database is PostgreSQL).
WORKDIR /var/lib/jiban
EXPOSE 8080
# Ready means the database answers and is migrated. The check uses bash's /dev/tcp and
# coreutils, already in the slim image, rather than adding curl (and its libraries) only
# for this: one HTTP/1.0 request, healthy when the status line says 200.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
USER jiban
ENTRYPOINT ["jiban"]
CMD ["serve"]
