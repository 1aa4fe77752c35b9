#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for conductor-postgres' tests, examples and benchmark.
#
#   eval "$(scripts/pg-cluster.sh start)"   # prints the exports below; the cluster runs
#   cargo test -p conductor-postgres
#   scripts/pg-cluster.sh stop              # stops it and deletes its directory
#
# `start` installs PostgreSQL from Debian's packages when no server binary is found (as root;
# otherwise it says what to install), runs initdb in a temporary directory, and starts the
# server on a free loopback port with its Unix socket in that directory. Authentication:
# trust for every user on loopback and the socket, except the role `scram_user` (password
# `scram_pw`), which must authenticate with SCRAM-SHA-256 over TCP. Postgres refuses to run
# as root, so as root the cluster belongs to the `postgres` user (created by the package).
# TLS is on (plain connections are accepted too), with a server certificate for `localhost`
# only, issued by a CA made here with openssl.
#
# Exports:
#   CONDUCTOR_PG_DSN         postgres://postgres@127.0.0.1:PORT/postgres
#   CONDUCTOR_PG_SOCKET_DIR  the directory of the Unix socket
#   CONDUCTOR_PG_CTL         a command that runs pg_ctl on the cluster (the restart test uses it)
#   CONDUCTOR_PG_STATE       this cluster's directory (stop reads it)
#   CONDUCTOR_PG_CA          the PEM of the CA that issued the server's certificate
set -euo pipefail

state_file="${TMPDIR:-/tmp}/conductor-pg-cluster.path"

find_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return 0
    fi
    return 1
}

install_server() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "pg-cluster: no PostgreSQL server found; install it (Debian: apt-get install postgresql)" >&2
        exit 1
    fi
    echo "pg-cluster: installing PostgreSQL from Debian's packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# A CA and a server certificate for `localhost` (not for 127.0.0.1: the tests check names).
make_certs() {
    local dir="$1"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=conductor test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" >/dev/null 2>&1
    chmod 600 "$dir/server.key"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local bindir dir port as
    bindir="$(find_bindir)" || { install_server; bindir="$(find_bindir)"; }
    dir="$(mktemp -d "${TMPDIR:-/tmp}/conductor-pg.XXXXXX")"
    port="$(free_port)"
    as=()
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown postgres "$dir"
        chmod 755 "$dir"
        as=(runuser -u postgres --)
    fi
    if ! command -v openssl >/dev/null; then
        [ "$(id -u)" -eq 0 ] || { echo "pg-cluster: openssl is needed for the TLS certificates" >&2; exit 1; }
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >&2
    fi
    make_certs "$dir"
    [ "${#as[@]}" -gt 0 ] && chown postgres "$dir/server.key" "$dir/server.pem"
    "${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host all scram_user 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
HBA
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c shared_buffers=64MB -c ssl=on -c ssl_cert_file=$dir/server.pem -c ssl_key_file=$dir/server.key" \
        start >&2 || { cat "$dir/server.log" >&2; exit 1; }
    "$bindir/psql" -qAt -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "SET password_encryption = 'scram-sha-256'; CREATE ROLE scram_user LOGIN PASSWORD 'scram_pw';" >&2
    echo "$dir" >"$state_file"
    echo "$bindir" >"$dir/bindir"
    local ctl="${as[*]} $bindir/pg_ctl -D $dir/data -l $dir/server.log"
    cat <<ENV
export CONDUCTOR_PG_DSN='postgres://postgres@127.0.0.1:$port/postgres'
export CONDUCTOR_PG_SOCKET_DIR='$dir'
export CONDUCTOR_PG_PORT='$port'
export CONDUCTOR_PG_CTL='$ctl'
export CONDUCTOR_PG_STATE='$dir'
export CONDUCTOR_PG_CA='$dir/ca.pem'
ENV
}

stop() {
    local dir="${CONDUCTOR_PG_STATE:-}"
    [ -n "$dir" ] || dir="$(cat "$state_file" 2>/dev/null || true)"
    [ -n "$dir" ] && [ -d "$dir/data" ] || { echo "pg-cluster: no cluster to stop" >&2; return 0; }
    local bindir as=()
    bindir="$(cat "$dir/bindir")"
    [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    rm -rf "$dir"
    rm -f "$state_file"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
