#!/usr/bin/env bash
# services.sh - throwaway PostgreSQL and MariaDB servers for Strata's tests.
#
#   scripts/services.sh start [DIR]   start both servers under DIR (default: a new
#                                     temporary directory), print DIR on stdout
#   scripts/services.sh stop DIR      stop exactly the servers started under DIR
#
# Both servers listen on 127.0.0.1 only, on free ports, with their data under
# DIR. As root they run as an unprivileged system user (strata-test), since
# both refuse to run as root. DIR/env holds the connection URLs:
#   STRATA_TEST_PG_URL=postgres://strata:strata@127.0.0.1:PORT/strata_test
#   STRATA_TEST_MYSQL_URL=mysql://strata:strata@127.0.0.1:PORT/strata_test
# Servers are stopped through their own pid files, never by process name.
# A server that cannot start makes `start` fail, printing its log.
set -euo pipefail

RUN_USER=strata-test

log() { echo "services: $*" >&2; }

run_as() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u "$RUN_USER" -- "$@"
    else
        "$@"
    fi
}

pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$d/initdb" ]]; then echo "$d"; return; fi
    done
    log "PostgreSQL server binaries not found (install postgresql)"; return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p tries=0
    while :; do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if ! port_in_use "$p"; then echo "$p"; return; fi
        tries=$((tries + 1))
        if [[ $tries -gt 200 ]]; then log "no free port"; return 1; fi
    done
}

start_pg() {
    local dir=$1 bin port
    bin=$(pg_bindir)
    port=$(free_port)
    mkdir -p "$dir/pg" "$dir/pg/sock"
    [[ $(id -u) -eq 0 ]] && chown -R "$RUN_USER" "$dir/pg"
    if ! run_as "$bin/initdb" -D "$dir/pg/data" -U postgres -A trust --auth-host=scram-sha-256 \
            -E UTF8 --locale=C --no-sync >"$dir/pg/initdb.log" 2>&1; then
        cat "$dir/pg/initdb.log" >&2; log "PostgreSQL initdb failed"; return 1
    fi
    if ! run_as "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
            -o "-p $port -k $dir/pg/sock -c listen_addresses=127.0.0.1 -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
                -c shared_buffers=64MB" start >"$dir/pg/pg_ctl.log" 2>&1; then
        cat "$dir/pg/pg_ctl.log" "$dir/pg/server.log" >&2 || true
        log "PostgreSQL did not start"; return 1
    fi
    local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/pg/sock" -p "$port" -U postgres -d postgres)
    run_as "${psql[@]}" -c "CREATE ROLE strata LOGIN SUPERUSER PASSWORD 'strata'" >/dev/null
    run_as "${psql[@]}" -c "CREATE DATABASE strata_test OWNER strata" >/dev/null
    echo "STRATA_TEST_PG_URL=postgres://strata:strata@127.0.0.1:$port/strata_test" >>"$dir/env"
    echo "STRATA_TEST_PG_BIN=$bin" >>"$dir/env"
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

start_mariadb() {
    local dir=$1 port server installer admin client
    port=$(free_port)
    server=$(command -v mariadbd || ls /usr/sbin/mariadbd 2>/dev/null || true)
    installer=$(command -v mariadb-install-db || true)
    admin=$(command -v mariadb-admin || command -v mysqladmin || true)
    client=$(command -v mariadb || command -v mysql || true)
    if [[ -z "$server" || -z "$installer" || -z "$admin" || -z "$client" ]]; then
        log "MariaDB server binaries not found (install mariadb-server)"; return 1
    fi
    mkdir -p "$dir/my"
    [[ $(id -u) -eq 0 ]] && chown -R "$RUN_USER" "$dir/my"
    if ! run_as "$installer" --no-defaults --datadir="$dir/my/data" \
            --auth-root-authentication-method=normal --skip-test-db \
            >"$dir/my/install.log" 2>&1; then
        cat "$dir/my/install.log" >&2; log "mariadb-install-db failed"; return 1
    fi
    run_as setsid "$server" --no-defaults --datadir="$dir/my/data" --port="$port" \
        --bind-address=127.0.0.1 --socket="$dir/my/sock" --pid-file="$dir/my/mariadbd.pid" \
        --log-error="$dir/my/server.log" --skip-log-bin --skip-name-resolve --local-infile=1 \
        --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 \
        --innodb-doublewrite=0 --max-connections=400 --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_bin </dev/null >/dev/null 2>&1 &
    local i
    for i in $(seq 1 120); do
        if run_as "$admin" --no-defaults -S "$dir/my/sock" -uroot ping >/dev/null 2>&1; then
            break
        fi
        if [[ $i -eq 120 ]]; then
            cat "$dir/my/server.log" >&2 || true; log "MariaDB did not start"; return 1
        fi
        sleep 0.5
    done
    run_as "$client" --no-defaults -S "$dir/my/sock" -uroot -e "
        CREATE USER 'strata'@'%' IDENTIFIED BY 'strata';
        CREATE USER 'strata'@'localhost' IDENTIFIED BY 'strata';
        GRANT ALL ON *.* TO 'strata'@'%' WITH GRANT OPTION;
        GRANT ALL ON *.* TO 'strata'@'localhost' WITH GRANT OPTION;
        CREATE DATABASE strata_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
    echo "STRATA_TEST_MYSQL_URL=mysql://strata:strata@127.0.0.1:$port/strata_test" >>"$dir/env"
    echo "STRATA_TEST_MYSQL_SOCKET=$dir/my/sock" >>"$dir/env"
    log "MariaDB $("$server" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_pid_file() {
    local pidfile=$1 sig=$2 what=$3 pid i
    [[ -f "$pidfile" ]] || return 0
    pid=$(head -n1 "$pidfile")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    kill "-$sig" "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || { log "stopped $what (pid $pid)"; return 0; }
        sleep 0.2
    done
    log "$what (pid $pid) did not stop; killing"
    kill -KILL "$pid" 2>/dev/null || true
}

cmd=${1:-}
case "$cmd" in
start)
    dir=${2:-}
    if [[ -z "$dir" ]]; then dir=$(mktemp -d /tmp/strata-services.XXXXXX); fi
    mkdir -p "$dir"
    chmod 755 "$dir"
    : >"$dir/env"
    if [[ $(id -u) -eq 0 ]] && ! id "$RUN_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
    fi
    if ! start_pg "$dir" || ! start_mariadb "$dir"; then
        "$0" stop "$dir" || true
        exit 1
    fi
    echo "$dir"
    ;;
stop)
    dir=${2:?usage: services.sh stop DIR}
    stop_pid_file "$dir/pg/data/postmaster.pid" INT PostgreSQL
    stop_pid_file "$dir/my/mariadbd.pid" TERM MariaDB
    ;;
*)
    echo "usage: $0 start [DIR] | stop DIR" >&2
    exit 2
    ;;
esac
