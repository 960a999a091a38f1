#!/usr/bin/env bash
# services.sh - throwaway PostgreSQL and MariaDB servers for Strata's tests.
#
#   scripts/services.sh start [DIR]   start both servers under DIR (default: a new
#                                     temporary directory), print DIR on stdout
#   scripts/services.sh start-galera [DIR]
#                                     a 3-node MariaDB Galera cluster under DIR/galera
#   scripts/services.sh start-pgstandby [DIR]
#                                     a PostgreSQL primary and one streaming hot
#                                     standby under DIR/pgha
#   scripts/services.sh galera-node stop|kill|start DIR N
#                                     stop (SIGTERM), SIGKILL or restart node N (1-3)
#                                     of the cluster under DIR; start waits until the
#                                     node has rejoined (IST or SST) and is Synced
#   scripts/services.sh stop DIR      stop exactly the servers started under DIR
#
# Every server listens on 127.0.0.1 only, on free ports, with its data under
# DIR. As root they run as an unprivileged system user (strata-test), since
# both refuse to run as root. DIR/env holds the connection URLs:
#   STRATA_TEST_PG_URL=postgres://strata:strata@127.0.0.1:PORT/strata_test
#   STRATA_TEST_MYSQL_URL=mysql://strata:strata@127.0.0.1:PORT/strata_test
# start-galera adds
#   STRATA_TEST_GALERA_URLS="mysql://strata:strata@127.0.0.1:P1/strata_test ..."
#   STRATA_TEST_GALERA_SOCKETS, STRATA_TEST_GALERA_PIDFILES  (one per node, in order)
#   STRATA_TEST_GALERA_DIR=DIR   (for `services.sh galera-node ACTION DIR N`)
# start-pgstandby adds
#   STRATA_TEST_PG_PRIMARY_URL, STRATA_TEST_PG_STANDBY_URL (same role and database)
#   STRATA_TEST_PG_PRIMARY_DATA, STRATA_TEST_PG_STANDBY_DATA (for pg_ctl)
# `start` begins a new DIR/env; start-galera and start-pgstandby append to it, so
# one DIR can hold all of them (run `start` first). STRATA_TEST_SERVICES_SH names
# this script for tests that stop or kill a node.
# Servers are stopped through their own pid files, never by process name.
# A server that cannot start makes `start*` fail, printing its log.
# Ports are reserved in $STRATA_PORT_REGISTRY (default /tmp/strata-services-ports)
# until `stop`, so that runs in parallel never pick the same port, including the
# Galera IST and SST ports that are bound only while a node joins.
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

PORT_REGISTRY=${STRATA_PORT_REGISTRY:-/tmp/strata-services-ports}
SERVICES_DIR=""   # the absolute DIR that owns the ports reserved by this run

# reserve_port PORT: claim PORT for $SERVICES_DIR. mkdir is atomic, so of two
# runs racing for one port exactly one wins. A reservation whose services
# directory no longer exists (removed without `stop`) is stale and reclaimed.
reserve_port() {
    local r="$PORT_REGISTRY/$1" owner
    if [[ ! -d "$PORT_REGISTRY" ]]; then
        mkdir -p "$PORT_REGISTRY" 2>/dev/null && chmod 1777 "$PORT_REGISTRY" 2>/dev/null
    fi
    if mkdir "$r" 2>/dev/null; then
        echo "$SERVICES_DIR" >"$r/owner"; return 0
    fi
    owner=$(cat "$r/owner" 2>/dev/null) || return 1
    if [[ -n "$owner" && ! -d "$owner" ]] && rm -rf "$r" 2>/dev/null && mkdir "$r" 2>/dev/null; then
        echo "$SERVICES_DIR" >"$r/owner"; return 0
    fi
    return 1
}

# release_ports DIR: drop every reservation made for DIR.
release_ports() {
    local o
    for o in "$PORT_REGISTRY"/*/owner; do
        [[ -f "$o" && "$(cat "$o" 2>/dev/null)" == "$1" ]] && rm -rf "$(dirname "$o")"
    done
    return 0
}

free_port() {
    local p tries=0
    while :; do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if ! port_in_use "$p" && reserve_port "$p"; then echo "$p"; return; fi
        tries=$((tries + 1))
        if [[ $tries -gt 200 ]]; then log "no free port"; return 1; fi
    done
}

# ensure_run_user: the unprivileged user the servers run as when we are root.
ensure_run_user() {
    if [[ $(id -u) -eq 0 ]] && ! id "$RUN_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
    fi
}

# services_dir [DIR]: create DIR (default: a new temporary directory) and print
# its absolute path.
services_dir() {
    local dir=${1:-}
    if [[ -z "$dir" ]]; then dir=$(mktemp -d /tmp/strata-services.XXXXXX); fi
    mkdir -p "$dir"
    chmod 755 "$dir"
    (cd "$dir" && pwd)
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
    mkdir -p "$dir/my/tmp"
    [[ $(id -u) -eq 0 ]] && chown -R "$RUN_USER" "$dir/my"
    # Its own tmpdir: two installs at once in /tmp collide on their temporary
    # tables ("Error on delete of '/tmp/#sql-temptable-...MAI'").
    if ! run_as "$installer" --no-defaults --datadir="$dir/my/data" --tmpdir="$dir/my/tmp" \
            --auth-root-authentication-method=normal --skip-test-db \
            >"$dir/my/install.log" 2>&1; then
        cat "$dir/my/install.log" >&2; log "mariadb-install-db failed"; return 1
    fi
    run_as setsid "$server" --no-defaults --datadir="$dir/my/data" --port="$port" \
        --bind-address=127.0.0.1 --socket="$dir/my/sock" --pid-file="$dir/my/mariadbd.pid" \
        --log-error="$dir/my/server.log" --skip-log-bin --skip-name-resolve --local-infile=1 \
        --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 \
        --innodb-doublewrite=0 --max-connections=400 --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_nopad_bin </dev/null >/dev/null 2>&1 &
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
        CREATE DATABASE strata_test CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin;"
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

# ---------------------------------------------------------------------------
# MariaDB Galera: three nodes on loopback, each with its own option file
# DIR/galera/nN/my.cnf, so that a node can be stopped, killed and restarted
# alone, and so that the SST script (which reads the node's options through
# --defaults-file) sees the same settings as the server.

GALERA_NODES=3

# find_mariadb: set MY_SERVER, MY_INSTALLER, MY_CLIENT, or fail.
find_mariadb() {
    MY_SERVER=$(command -v mariadbd || ls /usr/sbin/mariadbd 2>/dev/null || true)
    MY_INSTALLER=$(command -v mariadb-install-db || true)
    MY_CLIENT=$(command -v mariadb || command -v mysql || true)
    if [[ -z "$MY_SERVER" || -z "$MY_INSTALLER" || -z "$MY_CLIENT" ]]; then
        log "MariaDB server binaries not found (install mariadb-server)"; return 1
    fi
}

galera_provider() {
    local f
    for f in /usr/lib/galera/libgalera_smm.so /usr/lib/galera-4/libgalera_smm.so \
             /usr/lib64/galera-4/libgalera_smm.so; do
        if [[ -f "$f" ]]; then echo "$f"; return; fi
    done
    log "Galera provider libgalera_smm.so not found (install galera-4)"; return 1
}

galera_node_dir() { echo "$1/galera/n$2"; }

# galera_node_pid NODEDIR: print the pid of the node's server if it is running.
# The pid comes from the node's pid file; the process must also be the server
# started with this node's option file (a stale pid file may name another).
galera_node_pid() {
    local nd=$1 pid
    [[ -f "$nd/mariadbd.pid" ]] || return 1
    pid=$(head -n1 "$nd/mariadbd.pid" 2>/dev/null)
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "--defaults-file=$nd/my.cnf" || return 1
    echo "$pid"
}

galera_sql() {
    local nd=$1; shift
    run_as "$MY_CLIENT" --no-defaults -S "$nd/sock" -uroot -N -B "$@"
}

# galera_write_cnf NODEDIR N CLUSTER_NAME CLUSTER_ADDRESS SQL GCOMM IST SST
galera_write_cnf() {
    local nd=$1 n=$2 name=$3 address=$4 port=$5 gport=$6 iport=$7 sport=$8 provider
    provider=$(galera_provider)
    cat >"$nd/my.cnf" <<EOF
# Galera node $n of a throwaway test cluster (scripts/services.sh)
[mariadbd]
datadir=$nd/data
tmpdir=$nd/tmp
port=$port
bind-address=127.0.0.1
socket=$nd/sock
pid-file=$nd/mariadbd.pid
log-error=$nd/server.log
skip-log-bin
skip-name-resolve
local-infile=1
max-connections=400
character-set-server=utf8mb4
collation-server=utf8mb4_nopad_bin
default-storage-engine=InnoDB
innodb-buffer-pool-size=96M
innodb-log-file-size=32M
innodb-flush-log-at-trx-commit=2
innodb-doublewrite=0
binlog-format=ROW
innodb-autoinc-lock-mode=2
wsrep-on=ON
wsrep-provider=$provider
wsrep-cluster-name=$name
wsrep-cluster-address=$address
wsrep-node-name=node$n
wsrep-node-address=127.0.0.1
wsrep-node-incoming-address=127.0.0.1:$port
wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:$gport;ist.recv_addr=127.0.0.1:$iport;gcache.size=64M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT6S
wsrep-sst-method=rsync
wsrep-sst-receive-address=127.0.0.1:$sport
EOF
}

# galera_launch NODEDIR [OPTION...]: start the node's server in its own session
# (so that `kill` can take its SST helpers along) and wait for its pid file.
# The pid written before exec is the server's own: sh execs mariadbd.
galera_launch() {
    local nd=$1 i; shift
    rm -f "$nd/mariadbd.pid"
    # shellcheck disable=SC2016 # $$, $0 and $@ are the inner shell's
    run_as setsid sh -c 'echo $$ >"$0"; exec "$@"' "$nd/mariadbd.pid" \
        "$MY_SERVER" --defaults-file="$nd/my.cnf" "$@" </dev/null >>"$nd/launch.log" 2>&1 &
    for i in $(seq 1 100); do
        if galera_node_pid "$nd" >/dev/null; then return 0; fi
        sleep 0.05
    done
    cat "$nd/launch.log" "$nd/server.log" >&2 2>/dev/null || true
    log "Galera node $(basename "$nd") did not start"; return 1
}

# galera_recover_position NODEDIR: print the uuid:seqno InnoDB has committed
# (mariadbd --wsrep-recover), or nothing when there is none or recovery fails.
# Recovery runs InnoDB's crash recovery and purge; after a kill in the middle of
# DDL on tables with indexed virtual columns it was seen to loop for minutes
# while growing to 15 GB, so it gets 30 s (it needs about 1); without a position the
# node simply rejoins by a full SST, which replaces its data.
galera_recover_position() {
    local nd=$1
    rm -f "$nd/recover.log"
    if ! run_as timeout -k 5 30 "$MY_SERVER" --defaults-file="$nd/my.cnf" --wsrep-recover \
            --log-error="$nd/recover.log" --pid-file="$nd/recover.pid" </dev/null >/dev/null 2>&1; then
        tail -n 20 "$nd/recover.log" >&2 2>/dev/null || true
        log "mariadbd --wsrep-recover failed for Galera node $(basename "$nd") (end of its log" \
            "above, all of it in $nd/recover.log): the node rejoins by SST"
        return 0
    fi
    sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:[0-9-]*\).*/\1/p' "$nd/recover.log" |
        tail -n1 | grep -v ':-1$' || true
}

# galera_wait NODEDIR SIZE TIMEOUT: wait until the node is Synced in a cluster
# of SIZE nodes; print its log and fail if it dies or times out.
galera_wait() {
    local nd=$1 want=$2 timeout=$3 deadline out state size
    deadline=$(( $(date +%s) + timeout ))
    while :; do
        if ! galera_node_pid "$nd" >/dev/null; then
            cat "$nd/server.log" >&2 2>/dev/null || true
            log "Galera node $(basename "$nd") died while starting (log above)"; return 1
        fi
        out=$(galera_sql "$nd" -e "SHOW GLOBAL STATUS WHERE Variable_name IN
                ('wsrep_local_state_comment', 'wsrep_cluster_size')" 2>/dev/null) || out=""
        state=$(awk '$1 == "wsrep_local_state_comment" {print $2}' <<<"$out")
        size=$(awk '$1 == "wsrep_cluster_size" {print $2}' <<<"$out")
        if [[ "$state" == Synced && "$size" == "$want" ]]; then return 0; fi
        if [[ $(date +%s) -ge $deadline ]]; then
            cat "$nd/server.log" >&2 2>/dev/null || true
            log "Galera node $(basename "$nd") not Synced in a cluster of $want after ${timeout}s" \
                "(state '${state:-?}', size '${size:-?}'; log above)"
            return 1
        fi
        sleep 0.2
    done
}

# galera_wait_size NODEDIR SIZE TIMEOUT JOINERDIR: wait until the node sees SIZE
# members, JOINERDIR being the node that is joining; fail at once if it dies.
galera_wait_size() {
    local nd=$1 want=$2 timeout=$3 joiner=$4 deadline size
    deadline=$(( $(date +%s) + timeout ))
    while :; do
        size=$(galera_sql "$nd" -e "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'" 2>/dev/null |
               awk '{print $2}') || size=""
        if [[ "$size" -ge "$want" ]] 2>/dev/null; then return 0; fi
        if ! galera_node_pid "$joiner" >/dev/null; then
            cat "$joiner/server.log" >&2 2>/dev/null || true
            log "Galera node $(basename "$joiner") died while joining (log above)"; return 1
        fi
        if [[ $(date +%s) -ge $deadline ]]; then
            cat "$joiner/server.log" "$nd/server.log" >&2 2>/dev/null || true
            log "Galera node $(basename "$nd") sees ${size:-?} members, not $want, after ${timeout}s" \
                "(logs of $(basename "$joiner") and $(basename "$nd") above)"
            return 1
        fi
        sleep 0.1
    done
}

# galera_stop_node NODEDIR SIGNAL: stop the node (TERM: clean shutdown, leaving
# the cluster; KILL: the whole process group at once, as a crash would), then
# make sure nothing of its process group (SST helpers) is left.
galera_stop_node() {
    local nd=$1 sig=$2 pid pgid i
    pid=$(galera_node_pid "$nd") || return 0
    pgid=$(awk '{print $5}' "/proc/$pid/stat" 2>/dev/null || true)
    if [[ "$sig" == KILL && "$pgid" == "$pid" ]]; then
        kill -KILL -- "-$pid" 2>/dev/null || true
    else
        kill "-$sig" "$pid" 2>/dev/null || true
    fi
    for i in $(seq 1 300); do
        galera_node_pid "$nd" >/dev/null || break
        if [[ $i -eq 300 ]]; then
            log "Galera node $(basename "$nd") (pid $pid) did not stop; killing"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.2
    done
    if [[ "$pgid" == "$pid" ]]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
    log "stopped Galera node $(basename "$nd") (pid $pid, SIG$sig)"
}

# galera_wait_survivors DIR TIMEOUT: wait until every running node counts
# exactly the running nodes as members (after a node was stopped or killed).
galera_wait_survivors() {
    local dir=$1 timeout=$2 deadline running n nd size
    deadline=$(( $(date +%s) + timeout ))
    while :; do
        running=$(galera_running_count "$dir")
        local settled=1
        for n in $(seq 1 "$GALERA_NODES"); do
            nd=$(galera_node_dir "$dir" "$n")
            galera_node_pid "$nd" >/dev/null || continue
            size=$(galera_sql "$nd" -e "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'" 2>/dev/null |
                   awk '{print $2}') || size=""
            [[ "$size" == "$running" ]] || settled=0
        done
        if [[ $settled -eq 1 ]]; then return 0; fi
        if [[ $(date +%s) -ge $deadline ]]; then
            log "the remaining Galera nodes did not settle on $running members in ${timeout}s"
            return 1
        fi
        sleep 0.2
    done
}

galera_running_count() {
    local dir=$1 n c=0
    for n in $(seq 1 "$GALERA_NODES"); do
        galera_node_pid "$(galera_node_dir "$dir" "$n")" >/dev/null && c=$((c + 1))
    done
    echo "$c"
}

start_galera() {
    local dir=$1 g=$1/galera n nd name address
    local -a port gport iport sport
    find_mariadb || return 1
    galera_provider >/dev/null || return 1
    if [[ -e "$g" ]]; then log "$g already exists"; return 1; fi
    for n in $(seq 1 "$GALERA_NODES"); do
        port[n]=$(free_port); gport[n]=$(free_port); iport[n]=$(free_port); sport[n]=$(free_port)
        mkdir -p "$(galera_node_dir "$dir" "$n")/data" "$(galera_node_dir "$dir" "$n")/tmp"
    done
    name="strata-test-$$-$RANDOM"   # nodes of another cluster can never join this one
    address="gcomm://127.0.0.1:${gport[1]},127.0.0.1:${gport[2]},127.0.0.1:${gport[3]}"
    for n in $(seq 1 "$GALERA_NODES"); do
        galera_write_cnf "$(galera_node_dir "$dir" "$n")" "$n" "$name" "$address" \
            "${port[n]}" "${gport[n]}" "${iport[n]}" "${sport[n]}"
    done
    [[ $(id -u) -eq 0 ]] && chown -R "$RUN_USER" "$g"

    # Node 1 gets the system tables and bootstraps a new cluster; the other
    # nodes start empty and receive everything by SST (rsync) when they join.
    nd=$(galera_node_dir "$dir" 1)
    if ! run_as "$MY_INSTALLER" --no-defaults --datadir="$nd/data" --tmpdir="$nd/tmp" \
            --auth-root-authentication-method=normal --skip-test-db \
            --innodb-log-file-size=32M >"$nd/install.log" 2>&1; then
        cat "$nd/install.log" >&2; log "mariadb-install-db failed"; return 1
    fi
    galera_launch "$nd" --wsrep-new-cluster || return 1
    galera_wait "$nd" 1 120 || return 1
    galera_sql "$nd" -e "
        CREATE USER 'strata'@'%' IDENTIFIED BY 'strata';
        CREATE USER 'strata'@'localhost' IDENTIFIED BY 'strata';
        GRANT ALL ON *.* TO 'strata'@'%' WITH GRANT OPTION;
        GRANT ALL ON *.* TO 'strata'@'localhost' WITH GRANT OPTION;
        CREATE DATABASE strata_test CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin;"
    # The joiners start one after the other once the previous one is a member
    # (two nodes joining at the very same moment make the group membership
    # churn for seconds); the SSTs still overlap, a joiner waiting for a free
    # donor by itself.
    for n in $(seq 2 "$GALERA_NODES"); do
        galera_launch "$(galera_node_dir "$dir" "$n")" || return 1
        galera_wait_size "$(galera_node_dir "$dir" 1)" "$n" 120 "$(galera_node_dir "$dir" "$n")" || return 1
    done
    for n in $(seq 1 "$GALERA_NODES"); do
        galera_wait "$(galera_node_dir "$dir" "$n")" "$GALERA_NODES" 180 || return 1
    done

    local urls="" socks="" pids=""
    for n in $(seq 1 "$GALERA_NODES"); do
        nd=$(galera_node_dir "$dir" "$n")
        urls+="${urls:+ }mysql://strata:strata@127.0.0.1:${port[n]}/strata_test"
        socks+="${socks:+ }$nd/sock"
        pids+="${pids:+ }$nd/mariadbd.pid"
    done
    {
        echo "STRATA_TEST_GALERA_URLS=\"$urls\""
        echo "STRATA_TEST_GALERA_SOCKETS=\"$socks\""
        echo "STRATA_TEST_GALERA_PIDFILES=\"$pids\""
        echo "STRATA_TEST_GALERA_DIR=$dir"
        echo "STRATA_TEST_SERVICES_SH=$SCRIPT"
    } >>"$dir/env"
    log "MariaDB Galera cluster of $GALERA_NODES ($("$MY_SERVER" --version | awk '{print $3}')," \
        "galera $(galera_sql "$nd" -e "SHOW GLOBAL STATUS LIKE 'wsrep_provider_version'" | awk '{print $2}'))" \
        "on 127.0.0.1:${port[1]},${port[2]},${port[3]}"
}

# galera_node ACTION DIR N
galera_node() {
    local action=$1 dir=$2 n=$3 nd running
    nd=$(galera_node_dir "$dir" "$n")
    if [[ ! -f "$nd/my.cnf" ]]; then log "no Galera node $n under $dir"; return 2; fi
    find_mariadb || return 1
    case "$action" in
    stop|kill)
        if [[ $action == stop ]]; then galera_stop_node "$nd" TERM; else galera_stop_node "$nd" KILL; fi
        # Return once the others have noticed: a node restarted while the
        # cluster still counts its dead incarnation waits ~15 s in a
        # non-primary view before it may join.
        galera_wait_survivors "$dir" 60
        ;;
    start)
        if galera_node_pid "$nd" >/dev/null; then log "Galera node $n is already running"; return 1; fi
        running=$(galera_running_count "$dir")
        # After a crash (kill) grastate.dat says seqno -1: recover the node's
        # position from InnoDB first, as galera_recovery does for systemd, so
        # that it rejoins by IST instead of a full SST.
        local -a pos=()
        if grep -q '^seqno: *-1' "$nd/data/grastate.dat" 2>/dev/null; then
            local p
            p=$(galera_recover_position "$nd") || return 1
            [[ -n "$p" ]] && pos=(--wsrep-start-position="$p")
        fi
        if [[ $running -eq 0 ]]; then
            # No node to join: this one starts a new cluster from its own data.
            log "no Galera node is running: node $n bootstraps the cluster again"
            if [[ -f "$nd/data/grastate.dat" ]]; then
                run_as sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$nd/data/grastate.dat"
            fi
            galera_launch "$nd" --wsrep-new-cluster "${pos[@]}" || return 1
        else
            galera_launch "$nd" "${pos[@]}" || return 1
        fi
        galera_wait "$nd" $((running + 1)) 180 || return 1
        log "Galera node $n is Synced in a cluster of $((running + 1))"
        ;;
    *) log "usage: services.sh galera-node stop|kill|start DIR N"; return 2 ;;
    esac
}

stop_galera() {
    local dir=$1 n nd
    [[ -d "$dir/galera" ]] || return 0
    find_mariadb >/dev/null 2>&1 || true
    # Every node is told at once; each shutdown takes a second or two.
    for n in $(seq 1 "$GALERA_NODES"); do
        nd=$(galera_node_dir "$dir" "$n")
        [[ -f "$nd/my.cnf" ]] && galera_stop_node "$nd" TERM &
    done
    wait
}

# ---------------------------------------------------------------------------
# PostgreSQL primary with one streaming hot standby, under DIR/pgha.

# pg_write_conf DATA PORT SOCKDIR: the settings of both servers of the pair.
# synchronous_commit stays on: with it off a commit reaches the standby only
# when the WAL writer flushes (200-400 ms later), which tests of replica lag
# would measure instead of the replication itself.
pg_write_conf() {
    local data=$1 pgport=$2 sock=$3
    cat >>"$data/postgresql.conf" <<EOF
# scripts/services.sh
port = $pgport
unix_socket_directories = '$sock'
listen_addresses = '127.0.0.1'
fsync = off
full_page_writes = off
max_connections = 300
shared_buffers = 64MB
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = 1s
EOF
}

pg_start_instance() {
    local bin=$1 data=$2 what=$3
    if ! run_as "$bin/pg_ctl" -D "$data" -l "$data/../$what.log" -w -t 60 start \
            >"$data/../$what.pg_ctl.log" 2>&1; then
        cat "$data/../$what.pg_ctl.log" "$data/../$what.log" >&2 || true
        log "PostgreSQL $what did not start"; return 1
    fi
}

start_pgstandby() {
    local dir=$1 h=$1/pgha bin p1 p2 i state
    bin=$(pg_bindir) || return 1
    if [[ -e "$h" ]]; then log "$h already exists"; return 1; fi
    p1=$(free_port); p2=$(free_port)
    mkdir -p "$h/psock" "$h/ssock"
    [[ $(id -u) -eq 0 ]] && chown -R "$RUN_USER" "$h"
    if ! run_as "$bin/initdb" -D "$h/primary" -U postgres -A trust --auth-host=scram-sha-256 \
            -E UTF8 --locale=C --no-sync >"$h/initdb.log" 2>&1; then
        cat "$h/initdb.log" >&2; log "PostgreSQL initdb failed"; return 1
    fi
    pg_write_conf "$h/primary" "$p1" "$h/psock"
    pg_start_instance "$bin" "$h/primary" primary || return 1
    local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$h/psock" -p "$p1" -U postgres -d postgres)
    run_as "${psql[@]}" -c "CREATE ROLE strata LOGIN SUPERUSER PASSWORD 'strata'" >/dev/null
    run_as "${psql[@]}" -c "CREATE DATABASE strata_test OWNER strata" >/dev/null

    # The standby: a base backup that creates the physical slot and writes
    # primary_conninfo + standby.signal (-R); it streams as "strata_standby".
    if ! run_as "$bin/pg_basebackup" -d "host=$h/psock port=$p1 user=postgres application_name=strata_standby" \
            -D "$h/standby" -R -X stream -C -S strata_standby --checkpoint=fast --no-sync \
            >"$h/basebackup.log" 2>&1; then
        cat "$h/basebackup.log" >&2; log "pg_basebackup failed"; return 1
    fi
    pg_write_conf "$h/standby" "$p2" "$h/ssock"
    pg_start_instance "$bin" "$h/standby" standby || return 1
    for i in $(seq 1 300); do
        state=$(run_as "${psql[@]}" -At -c "SELECT state FROM pg_stat_replication
                                             WHERE application_name = 'strata_standby'") || state=""
        [[ "$state" == streaming ]] && break
        if [[ $i -eq 300 ]]; then
            cat "$h/standby.log" "$h/primary.log" >&2 || true
            log "the standby is not streaming after 60s (state '$state'; logs above)"; return 1
        fi
        sleep 0.2
    done
    {
        echo "STRATA_TEST_PG_PRIMARY_URL=postgres://strata:strata@127.0.0.1:$p1/strata_test"
        echo "STRATA_TEST_PG_STANDBY_URL=postgres://strata:strata@127.0.0.1:$p2/strata_test"
        echo "STRATA_TEST_PG_PRIMARY_DATA=$h/primary"
        echo "STRATA_TEST_PG_STANDBY_DATA=$h/standby"
        echo "STRATA_TEST_PG_BIN=$bin"
    } >>"$dir/env"
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') primary on 127.0.0.1:$p1," \
        "streaming hot standby on 127.0.0.1:$p2"
}

# stop_all DIR: stop every server started under DIR, release its ports.
stop_all() {
    local dir=$1
    stop_pid_file "$dir/pg/data/postmaster.pid" INT PostgreSQL
    stop_pid_file "$dir/my/mariadbd.pid" TERM MariaDB
    if [[ -d "$dir" ]]; then
        dir=$(cd "$dir" && pwd)
        stop_galera "$dir"
        stop_pid_file "$dir/pgha/standby/postmaster.pid" INT "PostgreSQL standby"
        stop_pid_file "$dir/pgha/primary/postmaster.pid" INT "PostgreSQL primary"
        release_ports "$dir"
    fi
}

# start_more KIND [DIR]: start-galera / start-pgstandby; DIR/env is appended to.
start_more() {
    local kind=$1 dir
    dir=$(services_dir "${2:-}")
    SERVICES_DIR=$dir
    touch "$dir/env"
    ensure_run_user
    if ! "start_$kind" "$dir"; then
        stop_all "$dir" || true
        exit 1
    fi
    echo "$dir"
}

SCRIPT=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

cmd=${1:-}
case "$cmd" in
start)
    dir=${2:-}
    if [[ -z "$dir" ]]; then dir=$(mktemp -d /tmp/strata-services.XXXXXX); fi
    mkdir -p "$dir"
    chmod 755 "$dir"
    SERVICES_DIR=$(cd "$dir" && pwd)
    : >"$dir/env"
    ensure_run_user
    if ! start_pg "$dir" || ! start_mariadb "$dir"; then
        "$0" stop "$dir" || true
        exit 1
    fi
    echo "$dir"
    ;;
start-galera)
    start_more galera "${2:-}"
    ;;
start-pgstandby)
    start_more pgstandby "${2:-}"
    ;;
galera-node)
    if [[ $# -ne 4 || ! "$4" =~ ^[1-3]$ ]]; then
        echo "usage: $0 galera-node stop|kill|start DIR N   (N = 1..3)" >&2; exit 2
    fi
    dir=$(cd "$3" && pwd)
    galera_node "$2" "$dir" "$4"
    ;;
stop)
    stop_all "${2:?usage: services.sh stop DIR}"
    ;;
*)
    echo "usage: $0 start [DIR] | start-galera [DIR] | start-pgstandby [DIR] |" \
         "galera-node stop|kill|start DIR N | stop DIR" >&2
    exit 2
    ;;
esac
