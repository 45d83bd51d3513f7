#!/usr/bin/env bash
# Side-by-side benchmark (issue #7): pgbench against PostgreSQL directly, through PgBouncer, through
# Pgpool-II and through pgsplit, on this one machine, interleaved round by round.
#
#   bench/run.sh [--quick] [--rounds N] [--duration S] [--clients "1 16 64"] [--scale N]
#                [--workloads "select extended prepared tpcb connect"]
#                [--targets "direct pgbouncer pgpool pgsplit"]
#                [--cluster DIR] [--reuse-cluster] [--out DIR] [--no-install]
#
#   --quick          smoke run: 1 round of 3 s at 1 and 16 clients (explicit options still win)
#   --rounds N       rounds (default 3); each round runs every cell once, targets interleaved
#   --duration S     seconds per pgbench run (default 10)
#   --clients LIST   client counts (default "1 16 64")
#   --scale N        pgbench scale factor (default 10)
#   --workloads LIST subset/order of: select extended prepared tpcb connect
#   --targets LIST   subset/order of: direct pgbouncer pgpool pgsplit
#   --cluster DIR    cluster directory for scripts/cluster.sh (default build/bench-run-cluster)
#   --reuse-cluster  use the cluster in DIR if it runs (start it otherwise) and leave it running at
#                    exit; keeps the loaded template database between runs
#   --out DIR        where results go (default bench/results)
#   --no-install     do not check/install Debian packages
#
# It installs what it needs (Debian packages, as root), builds pgsplit, starts a primary and two
# streaming replicas (scripts/cluster.sh), loads pgbench data once into a template database and
# copies it into one database per target (bench_direct, bench_pgbouncer, bench_pgpool,
# bench_pgsplit: per-database statistics then tell exactly which node served each target's
# transactions), starts PgBouncer, Pgpool-II and pgsplit on free loopback ports with configurations
# generated in a temporary directory, runs the matrix and writes bench/results/<UTC time>.md (+ .png
# chart, .runs.tsv raw data, middlebox logs) and bench/results/latest.md. Everything it started is
# stopped on exit, Ctrl-C and failure included. bench/README.md explains every column.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

readonly ALL_WORKLOADS="select extended prepared tpcb connect"
readonly ALL_TARGETS="direct pgbouncer pgpool pgsplit"
readonly BENCH_PACKAGES=(pgbouncer pgpool2 gnuplot-nox)
readonly SERVICE_USER=postgres    # PgBouncer refuses to run as root; Pgpool-II runs as it too
readonly PGBOUNCER_POOL_SIZE=20   # = pgsplit's default max_server_connections per node
readonly MAX_CLIENTS=100          # the cluster's max_connections (300) must hold every pool at once
readonly STATS_SETTLE_SECONDS=11  # PostgreSQL 15 flushes an idle backend's statistics within 10 s

ROUNDS="" DURATION="" CLIENTS="" SCALE=10 QUICK=0 REUSE=0 INSTALL=1
WORKLOADS="${ALL_WORKLOADS}" TARGETS="${ALL_TARGETS}"
CLUSTER_DIR="${REPO_ROOT}/build/bench-run-cluster"
OUT_DIR="${REPO_ROOT}/bench/results"

# Filled in as things start; cleanup() reads them.
WORK="" CLUSTER_STARTED=0 PGBENCH_PID="" RESULT_BASE=""
declare -A MB_PID=()  # middlebox name -> pid
declare -A PORT=()    # target -> port clients connect to

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '5,21s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

# ---------------------------------------------------------------------------------------------------
# arguments

parse_args() {
  while (($# > 0)); do
    case "$1" in
      --quick) QUICK=1 ;;
      --rounds) ROUNDS="${2:?--rounds needs a value}"; shift ;;
      --duration) DURATION="${2:?--duration needs a value}"; shift ;;
      --clients) CLIENTS="${2:?--clients needs a value}"; shift ;;
      --scale) SCALE="${2:?--scale needs a value}"; shift ;;
      --workloads) WORKLOADS="${2:?--workloads needs a value}"; shift ;;
      --targets) TARGETS="${2:?--targets needs a value}"; shift ;;
      --cluster) CLUSTER_DIR="$(realpath -m -- "${2:?--cluster needs a value}")"; shift ;;
      --reuse-cluster) REUSE=1 ;;
      --out) OUT_DIR="$(realpath -m -- "${2:?--out needs a value}")"; shift ;;
      --no-install) INSTALL=0 ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
  done
  if ((QUICK)); then
    : "${ROUNDS:=1}" "${DURATION:=3}" "${CLIENTS:=1 16}"
  else
    : "${ROUNDS:=3}" "${DURATION:=10}" "${CLIENTS:=1 16 64}"
  fi
  [[ "${ROUNDS}" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
  [[ "${DURATION}" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive number of seconds"
  [[ "${SCALE}" =~ ^[1-9][0-9]*$ ]] || die "--scale must be a positive integer"
  local c w t
  for c in ${CLIENTS}; do
    if ! [[ "${c}" =~ ^[1-9][0-9]*$ ]] || ((c > MAX_CLIENTS)); then
      die "--clients: '${c}' is not in 1..${MAX_CLIENTS}"
    fi
  done
  for w in ${WORKLOADS}; do
    [[ " ${ALL_WORKLOADS} " == *" ${w} "* ]] || die "--workloads: unknown '${w}' (known: ${ALL_WORKLOADS})"
  done
  for t in ${TARGETS}; do
    [[ " ${ALL_TARGETS} " == *" ${t} "* ]] || die "--targets: unknown '${t}' (known: ${ALL_TARGETS})"
  done
  [[ -n "${CLIENTS// /}" && -n "${WORKLOADS// /}" && -n "${TARGETS// /}" ]] || die "empty --clients, --workloads or --targets"
  local list
  for list in "${CLIENTS}" "${WORKLOADS}" "${TARGETS}"; do
    # shellcheck disable=SC2086 # split the list on purpose
    [[ -z "$(printf '%s\n' ${list} | sort | uniq -d)" ]] || die "duplicate entry in '${list}'"
  done
}

wants_target() { [[ " ${TARGETS} " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------------------------------
# setup: packages, build, cluster, data

install_packages() {
  "${REPO_ROOT}/scripts/install-deps.sh"
  local p missing=()
  for p in "${BENCH_PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "${p}" 2>/dev/null || true)" == installed ]] || missing+=("${p}")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ "$(id -u)" -ne 0 ]]; then
    die "missing packages: ${missing[*]}; as root: apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  log "installing ${missing[*]}"
  local apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -q --no-install-recommends "${missing[@]}" >&2
  log "note: on a systemd machine the packages enable their own services (pgbouncer on localhost:6432," \
    "pgpool2 on 5433); this script does not use or stop them: systemctl disable --now pgbouncer pgpool2"
}

check_tools() {
  local tool
  for tool in pgbouncer pgpool gnuplot setpriv timeout ps awk sort; do
    command -v "${tool}" >/dev/null 2>&1 || die "${tool} not found (run without --no-install, as root)"
  done
  if [[ "$(id -u)" -eq 0 ]]; then
    id -u "${SERVICE_USER}" >/dev/null 2>&1 || die "no '${SERVICE_USER}' OS user (install postgresql-15)"
  fi
}

build_pgsplit() {
  log "building pgsplit"
  "${REPO_ROOT}/scripts/build.sh" >"${WORK}/build.log" 2>&1 || { tail -n 30 "${WORK}/build.log" >&2; die "build failed"; }
  PGSPLIT_BIN="${REPO_ROOT}/build/pgsplit"
}

start_cluster() {
  local running=0
  "${REPO_ROOT}/scripts/cluster.sh" status "${CLUSTER_DIR}" >/dev/null 2>&1 && running=1
  if ((running && !REUSE)); then
    die "a cluster already runs in ${CLUSTER_DIR}; pass --reuse-cluster to use it, or stop it: scripts/cluster.sh stop ${CLUSTER_DIR}"
  fi
  ((running)) || CLUSTER_STARTED=1
  log "cluster: ${CLUSTER_DIR}$( ((running)) && echo ' (reusing the running one)')"
  "${REPO_ROOT}/scripts/cluster.sh" start "${CLUSTER_DIR}" >"${WORK}/cluster.log" 2>&1 ||
    { tail -n 30 "${WORK}/cluster.log" >&2; die "scripts/cluster.sh start failed"; }
  # shellcheck disable=SC1091
  source "${CLUSTER_DIR}/cluster.env"
  PGBENCH="${PG_BINDIR}/pgbench"
  PSQL="${PG_BINDIR}/psql"
  NODE_PORTS=("${PRIMARY_PORT}" "${REPLICA1_PORT}" "${REPLICA2_PORT}")
}

# psql as the superuser over TCP; $1 = port, $2 = database, the rest are psql arguments.
su_sql() {
  local port="$1" db="$2"
  shift 2
  PGPASSWORD="${SUPERUSER_PASSWORD}" PGOPTIONS='-c client_min_messages=warning' "${PSQL}" -X -q -A -t -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "${port}" -U "${SUPERUSER}" -d "${db}" "$@"
}

target_db() { printf 'bench_%s' "$1"; }

# Waits until both replicas have replayed everything the primary has written so far.
wait_replicas_caught_up() {
  local lsn deadline=$((SECONDS + 120)) port behind
  lsn="$(su_sql "${PRIMARY_PORT}" postgres -c 'select pg_current_wal_lsn()')"
  for port in "${REPLICA1_PORT}" "${REPLICA2_PORT}"; do
    while :; do
      behind="$(su_sql "${port}" postgres -c "select pg_wal_lsn_diff('${lsn}', pg_last_wal_replay_lsn()) > 0")"
      [[ "${behind}" == f ]] && break
      ((SECONDS < deadline)) || die "replica on port ${port} did not replay up to ${lsn} within 120 s"
      sleep 0.2
    done
  done
}

# Loads pgbench data once into bench_template (kept with --reuse-cluster when the scale matches),
# then gives every target a fresh copy of it, so each run starts from the same data and each
# target's transactions are counted in its own database.
load_data() {
  local have="" t db
  have="$(su_sql "${PRIMARY_PORT}" postgres -c "select 1 from pg_database where datname = 'bench_template'")"
  if [[ "${have}" == 1 ]]; then
    have="$(su_sql "${PRIMARY_PORT}" bench_template -c 'select count(*) from pgbench_branches' 2>/dev/null || true)"
  fi
  if [[ "${have}" != "${SCALE}" ]]; then
    log "loading pgbench data, scale ${SCALE}"
    su_sql "${PRIMARY_PORT}" postgres -c 'drop database if exists bench_template' \
      -c "create database bench_template owner ${APP_USER}"
    PGPASSWORD="${APP_PASSWORD}" "${PGBENCH}" -i -q -s "${SCALE}" -h 127.0.0.1 -p "${PRIMARY_PORT}" \
      -U "${APP_USER}" bench_template >"${WORK}/pgbench-init.log" 2>&1 ||
      { tail -n 20 "${WORK}/pgbench-init.log" >&2; die "pgbench -i failed"; }
  else
    log "reusing pgbench data (scale ${SCALE}) in bench_template"
  fi
  for t in ${ALL_TARGETS}; do
    db="$(target_db "${t}")"
    su_sql "${PRIMARY_PORT}" postgres -c "drop database if exists ${db} with (force)" \
      -c "create database ${db} owner ${APP_USER} template bench_template strategy file_copy"
  done
  su_sql "${PRIMARY_PORT}" postgres -c checkpoint
  wait_replicas_caught_up
}

# ---------------------------------------------------------------------------------------------------
# processes

declare -A TAKEN_PORTS=()

# Sets FREE_PORT to a free loopback TCP port below the kernel's ephemeral range (not listed in
# /proc/net/tcp{,6} and not handed out by this script before). Not for $(...): it records the port.
free_port() {
  local lo=20000 hi=60000 eph_lo p i hex
  read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range || eph_lo=0
  ((eph_lo - 1 - lo >= 1000)) && hi=$((eph_lo - 1))
  local -A used=()
  while read -r hex; do used[$((16#${hex}))]=1; done < <(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  for ((i = 0; i < 1000; i++)); do
    p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
    if [[ -z "${used[${p}]:-}" && -z "${TAKEN_PORTS[${p}]:-}" ]]; then
      TAKEN_PORTS[${p}]=1
      FREE_PORT="${p}"
      return 0
    fi
  done
  die "no free TCP port found in ${lo}-${hi}"
}

# Sets RUN_AS, the command prefix that runs a program as the unprivileged service user when we are
# root. setpriv and env exec, so for `"${RUN_AS[@]}" prog ... &` $! is the program's own pid.
set_run_as() {
  if [[ "$(id -u)" -eq 0 ]]; then
    RUN_AS=(setpriv --reuid="${SERVICE_USER}" --regid="${SERVICE_USER}" --init-groups -- env HOME="${WORK}")
  else
    RUN_AS=(env HOME="${WORK}")
  fi
}

# Pids of $1 and all its descendants, one per line.
process_tree() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      keep[root] = 1; print root
      do { added = 0
        for (i in pids) { p = pids[i]
          if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; print p; added = 1 } }
      } while (added)
    }'
}

# CPU clock ticks used so far by the process tree under $1: utime + stime of every live process
# plus cutime + cstime (children that exited and were reaped, e.g. Pgpool-II's recycled children).
cpu_ticks() {
  local pid line sum=0 rest
  local -a f
  while read -r pid; do
    line="$(cat "/proc/${pid}/stat" 2>/dev/null)" || continue
    rest="${line##*) }" # fields after "pid (comm) "
    read -r -a f <<<"${rest}"
    sum=$((sum + f[11] + f[12] + f[13] + f[14]))
  done < <(process_tree "$1")
  printf '%s' "${sum}"
}

# Waits until a client can run a query through $2 (port) into $3 (database); $1 names the process
# (its pid in MB_PID) for messages.
wait_ready() {
  local name="$1" port="$2" db="$3" deadline=$((SECONDS + 30))
  while :; do
    if PGPASSWORD="${APP_PASSWORD}" PGCONNECT_TIMEOUT=3 "${PSQL}" -X -q -A -t -h 127.0.0.1 -p "${port}" \
      -U "${APP_USER}" -d "${db}" -c 'select 1' >/dev/null 2>&1; then
      return 0
    fi
    if [[ -n "${MB_PID[${name}]:-}" ]] && ! kill -0 "${MB_PID[${name}]}" 2>/dev/null; then
      tail -n 30 "${WORK}/${name}.log" >&2 || true
      die "${name} exited during startup (log above)"
    fi
    ((SECONDS < deadline)) || { tail -n 30 "${WORK}/${name}.log" >&2 || true; die "${name} is not answering on port ${port} after 30 s"; }
    sleep 0.3
  done
}

start_pgbouncer() {
  local dir="${WORK}/pgbouncer" port secret db
  free_port
  port="${FREE_PORT}"
  db="$(target_db pgbouncer)"
  mkdir -p "${dir}"
  # The SCRAM verifier the server stores: PgBouncer checks clients against it and, since the client
  # proves it knows the password, logs in to the server with the same keys (no PBKDF2 of its own).
  secret="$(su_sql "${PRIMARY_PORT}" postgres -c "select rolpassword from pg_authid where rolname = '${APP_USER}'")"
  printf '"%s" "%s"\n' "${APP_USER}" "${secret}" >"${dir}/userlist.txt"
  cat >"${dir}/pgbouncer.ini" <<EOF
[databases]
${db} = host=127.0.0.1 port=${PRIMARY_PORT} dbname=${db}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = ${dir}/userlist.txt
pool_mode = transaction
default_pool_size = ${PGBOUNCER_POOL_SIZE}
max_client_conn = 1000
pidfile = ${dir}/pgbouncer.pid
log_connections = 0
log_disconnections = 0
EOF
  chmod 600 "${dir}/userlist.txt"
  [[ "$(id -u)" -eq 0 ]] && chown -R "${SERVICE_USER}:" "${dir}"
  "${RUN_AS[@]}" pgbouncer "${dir}/pgbouncer.ini" >>"${WORK}/pgbouncer.log" 2>&1 &
  MB_PID[pgbouncer]=$!
  PORT[pgbouncer]="${port}"
  wait_ready pgbouncer "${port}" "${db}"
  log "pgbouncer: pid ${MB_PID[pgbouncer]}, port ${port} (transaction pooling, ${PGBOUNCER_POOL_SIZE} server connections, primary only)"
}

# Pgpool-II: streaming-replication mode, load balancing over the primary and both replicas (weight 1
# each, its default per-session choice), no watchdog, no health check, no replication-delay check;
# it learns which node is the primary as the app user (whose password it has).
start_pgpool() {
  local dir="${WORK}/pgpool" port pcp_port children max_c=0 c i
  free_port
  port="${FREE_PORT}"
  free_port
  pcp_port="${FREE_PORT}"
  for c in ${CLIENTS}; do ((c > max_c)) && max_c=${c}; done
  children=$((max_c > 32 ? max_c + 8 : 40)) # one process per client; more clients than children would queue
  mkdir -p "${dir}"
  {
    cat <<EOF
backend_clustering_mode = 'streaming_replication'
listen_addresses = '127.0.0.1'
port = ${port}
socket_dir = '${dir}'
pcp_listen_addresses = ''
pcp_port = ${pcp_port}
pcp_socket_dir = '${dir}'
wd_ipc_socket_dir = '${dir}'
use_watchdog = off
pid_file_name = '${dir}/pgpool.pid'
logdir = '${dir}'
log_destination = 'stderr'
log_min_messages = warning
enable_pool_hba = on
pool_passwd = 'pool_passwd'
num_init_children = ${children}
max_pool = 1
child_life_time = 0
connection_cache = on
load_balance_mode = on
statement_level_load_balance = off
sr_check_period = 0
sr_check_user = '${APP_USER}'
sr_check_password = '${APP_PASSWORD}'
sr_check_database = 'postgres'
health_check_period = 0
failover_on_backend_error = off
search_primary_node_timeout = 10
EOF
    for i in 0 1 2; do
      cat <<EOF
backend_hostname${i} = '127.0.0.1'
backend_port${i} = ${NODE_PORTS[${i}]}
backend_weight${i} = 1
backend_flag${i} = 'DISALLOW_TO_FAILOVER'
backend_application_name${i} = 'node${i}'
EOF
    done
  } >"${dir}/pgpool.conf"
  printf '%s:TEXT%s\n' "${APP_USER}" "${APP_PASSWORD}" >"${dir}/pool_passwd"
  printf 'host all all 127.0.0.1/32 scram-sha-256\n' >"${dir}/pool_hba.conf"
  : >"${dir}/pcp.conf"
  chmod 600 "${dir}/pool_passwd" "${dir}/pgpool.conf"
  [[ "$(id -u)" -eq 0 ]] && chown -R "${SERVICE_USER}:" "${dir}"
  "${RUN_AS[@]}" pgpool -n -D -f "${dir}/pgpool.conf" -F "${dir}/pcp.conf" -a "${dir}/pool_hba.conf" \
    >>"${WORK}/pgpool.log" 2>&1 &
  MB_PID[pgpool]=$!
  PORT[pgpool]="${port}"
  wait_ready pgpool "${port}" "$(target_db pgpool)"
  log "pgpool: pid ${MB_PID[pgpool]}, port ${port} (${children} children, load balancing over 3 nodes)"
}

start_pgsplit() {
  local port cfg="${WORK}/pgsplit.toml"
  free_port
  port="${FREE_PORT}"
  cat >"${cfg}" <<EOF
[server]
listen = "127.0.0.1:${port}"
http_listen = ""
[pool]
mode = "transaction"
[log]
level = "warn"
[[nodes]]
name = "primary"
host = "127.0.0.1"
port = ${PRIMARY_PORT}
[[nodes]]
name = "replica1"
host = "127.0.0.1"
port = ${REPLICA1_PORT}
[[nodes]]
name = "replica2"
host = "127.0.0.1"
port = ${REPLICA2_PORT}
[[users]]
name = "${APP_USER}"
password = "${APP_PASSWORD}"
EOF
  "${PGSPLIT_BIN}" --config "${cfg}" >>"${WORK}/pgsplit.log" 2>&1 &
  MB_PID[pgsplit]=$!
  PORT[pgsplit]="${port}"
  wait_ready pgsplit "${port}" "$(target_db pgsplit)"
  log "pgsplit: pid ${MB_PID[pgsplit]}, port ${port} (transaction pooling, reads on 2 replicas)"
}

start_middleboxes() {
  PORT[direct]="${PRIMARY_PORT}"
  if wants_target pgbouncer; then start_pgbouncer; fi
  if wants_target pgpool; then start_pgpool; fi
  if wants_target pgsplit; then start_pgsplit; fi
}

# Stops one process tree: $1 pid, $2 signal for an orderly stop. SIGKILL for what is left after 10 s.
stop_tree() {
  local pid="$1" sig="$2" i p
  local -a tree
  mapfile -t tree < <(process_tree "${pid}")
  kill "-${sig}" "${pid}" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.1
  done
  for p in "${tree[@]}"; do
    kill -0 "${p}" 2>/dev/null && kill -KILL "${p}" 2>/dev/null
  done
  wait "${pid}" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n "${PGBENCH_PID}" ]]; then stop_tree "${PGBENCH_PID}" TERM; fi
  local name
  for name in pgsplit pgpool pgbouncer; do
    [[ -n "${MB_PID[${name}]:-}" ]] || continue
    # Pgpool-II: SIGINT is its fast shutdown (SIGTERM would wait for clients to leave).
    if [[ "${name}" == pgpool ]]; then stop_tree "${MB_PID[${name}]}" INT; else stop_tree "${MB_PID[${name}]}" TERM; fi
  done
  if [[ -n "${RESULT_BASE}" && -n "${WORK}" ]]; then
    for name in pgsplit pgpool pgbouncer; do
      [[ -s "${WORK}/${name}.log" ]] && cp "${WORK}/${name}.log" "${RESULT_BASE}.${name}.log"
    done
  fi
  if ((CLUSTER_STARTED && !REUSE)); then
    log "stopping the cluster"
    "${REPO_ROOT}/scripts/cluster.sh" stop "${CLUSTER_DIR}" --wipe >/dev/null ||
      log "warning: scripts/cluster.sh stop ${CLUSTER_DIR} --wipe failed"
  elif ((REUSE)); then
    log "the cluster keeps running (--reuse-cluster): scripts/cluster.sh stop ${CLUSTER_DIR} --wipe"
  fi
  [[ -n "${WORK}" && -d "${WORK}" ]] && rm -rf -- "${WORK}"
  log "stopped everything this run started (exit status ${rc})"
  exit "${rc}"
}

# ---------------------------------------------------------------------------------------------------
# measuring

# pgbench options for a workload.
workload_args() {
  case "$1" in
    select) printf '%s\n' -S -M simple ;;
    extended) printf '%s\n' -S -M extended ;;
    prepared) printf '%s\n' -S -M prepared ;;
    tpcb) printf '%s\n' -M simple ;;
    connect) printf '%s\n' -C -S -M simple ;;
  esac
}

workload_title() {
  case "$1" in
    select) printf 'pgbench -S (simple protocol)' ;;
    extended) printf 'pgbench -S -M extended' ;;
    prepared) printf 'pgbench -S -M prepared' ;;
    tpcb) printf 'pgbench (TPC-B-like: 3 UPDATE, SELECT, INSERT in one transaction)' ;;
    connect) printf 'pgbench -C -S (a new connection per transaction)' ;;
  esac
}

# Transactions (commits + rollbacks) of the database $1 on primary, replica1, replica2: "p r1 r2".
node_xacts() {
  local port out=()
  for port in "${NODE_PORTS[@]}"; do
    out+=("$(su_sql "${port}" postgres -c "select xact_commit + xact_rollback from pg_stat_database where datname = '$1'")")
  done
  printf '%s %s %s' "${out[@]}"
}

# Statistics windows. A pooled backend that goes idle less than a second after its last flush keeps
# its counters for up to 10 s (PGSTAT_IDLE_INTERVAL), so a target's window is closed only when that
# target runs next (its database sees no other traffic in between) or at the very end.
declare -A WINDOW_RUN=() WINDOW_START=() WINDOW_OPENED_AT=()

close_window() {
  local t="$1" now
  [[ -n "${WINDOW_RUN[${t}]:-}" ]] || return 0
  now="$(node_xacts "$(target_db "${t}")")"
  local -a a b
  read -r -a a <<<"${WINDOW_START[${t}]}"
  read -r -a b <<<"${now}"
  printf '%s\t%s\t%s\t%s\n' "${WINDOW_RUN[${t}]}" $((b[0] - a[0])) $((b[1] - a[1])) $((b[2] - a[2])) >>"${SHARES_TSV}"
  WINDOW_RUN[${t}]=""
}

open_window() {
  local t="$1" run="$2"
  # Make sure the previous run of this target had 10 s to flush before its window closes.
  if [[ -n "${WINDOW_OPENED_AT[${t}]:-}" ]]; then
    local wait_s=$((WINDOW_OPENED_AT[${t}] + DURATION + STATS_SETTLE_SECONDS - SECONDS))
    ((wait_s > 0)) && sleep "${wait_s}"
  fi
  close_window "${t}"
  WINDOW_START[${t}]="$(node_xacts "$(target_db "${t}")")"
  WINDOW_RUN[${t}]="${run}"
  WINDOW_OPENED_AT[${t}]=${SECONDS}
}

# Latency statistics from pgbench's per-transaction logs ($@): "avg_ms p50_ms p99_ms" (nearest rank).
latency_stats() {
  cat -- "$@" 2>/dev/null | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n | awk '
    { v[NR] = $1; s += $1 }
    END {
      if (NR == 0) { print "- - -"; exit }
      i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++
      i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
      printf "%.3f %.3f %.3f\n", s / NR / 1000, v[i50] / 1000, v[i99] / 1000
    }'
}

# One pgbench run; appends a line to RUNS_TSV.
run_one() {
  local run="$1" round="$2" workload="$3" clients="$4" target="$5"
  local port="${PORT[${target}]}" db jobs prefix out rc=0 status note
  db="$(target_db "${target}")"
  jobs=$((clients < $(nproc) ? clients : $(nproc)))
  prefix="${WORK}/pgbench/run${run}"
  local -a args
  mapfile -t args < <(workload_args "${workload}")

  open_window "${target}" "${run}"
  local mb_pid="${MB_PID[${target}]:-}" ticks0=0 ticks1=0
  [[ -n "${mb_pid}" ]] && ticks0="$(cpu_ticks "${mb_pid}")"
  PGPASSWORD="${APP_PASSWORD}" timeout --kill-after=10 $((DURATION + 60)) \
    "${PGBENCH}" -n "${args[@]}" -c "${clients}" -j "${jobs}" -T "${DURATION}" \
    --log --log-prefix="${prefix}" -h 127.0.0.1 -p "${port}" -U "${APP_USER}" "${db}" \
    >"${prefix}.out" 2>&1 &
  PGBENCH_PID=$!
  wait "${PGBENCH_PID}" || rc=$?
  PGBENCH_PID=""
  [[ -n "${mb_pid}" ]] && ticks1="$(cpu_ticks "${mb_pid}")"
  if [[ -n "${mb_pid}" ]] && ! kill -0 "${mb_pid}" 2>/dev/null; then
    log "ERROR: ${target} (pid ${mb_pid}) is gone; last lines of its log:"
    tail -n 20 "${WORK}/${target}.log" >&2 || true
    die "${target} died during ${workload} at ${clients} clients (round ${round})"
  fi

  out="$(cat "${prefix}.out")"
  local tps txns conn_ms lat_avg lat_p50 lat_p99
  tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"${out}" | head -n1)"
  txns="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"${out}" | head -n1)"
  conn_ms="$(sed -n 's/^average connection time = \([0-9.]*\) ms.*/\1/p' <<<"${out}" | head -n1)"
  read -r lat_avg lat_p50 lat_p99 < <(latency_stats "${prefix}".[0-9]*)
  rm -f -- "${prefix}".[0-9]*
  case "${rc}" in
    0) status=ok ;;
    124 | 137) status=hung ;;
    2) status=aborted ;;
    *) status="failed(${rc})" ;;
  esac
  note=""
  if [[ "${status}" == ok && -z "${tps}" ]]; then
    status=incomplete
    note="pgbench exited 0 without a result: $(grep -m1 -iE 'error|fatal|abort|warning' <<<"${out}" | tr '\t|' '  ' | cut -c1-160 || true)"
  elif [[ "${status}" != ok ]]; then
    note="$(grep -m1 -iE 'error|fatal|abort' <<<"${out}" | tr '\t|' '  ' | cut -c1-200 || true)"
  fi
  if [[ "${status}" != ok ]]; then
    cp "${prefix}.out" "${RESULT_BASE}.failed-run${run}.log"
  fi
  local cpu_ticks_used=$((ticks1 - ticks0))
  [[ -n "${mb_pid}" ]] || cpu_ticks_used="-"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${run}" "${round}" "${workload}" \
    "${clients}" "${target}" "${status}" "${tps:--}" "${txns:-0}" "${lat_avg}" "${lat_p50}" "${lat_p99}" "${cpu_ticks_used}" \
    "${conn_ms:--}" "${note:--}" >>"${RUNS_TSV}"
  log "round ${round} ${workload} c=${clients} ${target}: ${status} tps=${tps:--} lat avg/p50/p99 ms=${lat_avg}/${lat_p50}/${lat_p99} cpu_ticks=${cpu_ticks_used}${note:+ ${note}}"
}

# Fills every middlebox's pools before anything is measured (PgBouncer and pgsplit open server
# connections on demand, Pgpool-II children log in to the backends at their first client), so that
# the first cell of each target does not pay for it. Not recorded; the statistics it leaves behind
# are flushed before the first window opens.
warm_up() {
  local target max_c=0 c
  for c in ${CLIENTS}; do ((c > max_c)) && max_c=${c}; done
  for target in ${TARGETS}; do
    [[ "${target}" == direct ]] && continue
    log "warming up ${target} (pgbench -S, ${max_c} clients, 3 s)"
    PGPASSWORD="${APP_PASSWORD}" timeout --kill-after=10 60 "${PGBENCH}" -n -S -c "${max_c}" \
      -j "$((max_c < $(nproc) ? max_c : $(nproc)))" -T 3 -h 127.0.0.1 -p "${PORT[${target}]}" \
      -U "${APP_USER}" "$(target_db "${target}")" >"${WORK}/warmup-${target}.out" 2>&1 &
    PGBENCH_PID=$!
    wait "${PGBENCH_PID}" || log "warning: warm-up of ${target} failed: $(grep -m1 -iE 'error|fatal' "${WORK}/warmup-${target}.out" || true)"
    PGBENCH_PID=""
  done
  sleep "${STATS_SETTLE_SECONDS}"
}

run_matrix() {
  local round workload clients target run=0 total
  total=$((ROUNDS * $(wc -w <<<"${WORKLOADS}") * $(wc -w <<<"${CLIENTS}") * $(wc -w <<<"${TARGETS}")))
  log "running ${total} pgbench runs of ${DURATION} s (about $((total * (DURATION + 3) / 60 + 1)) min)"
  mkdir -p "${WORK}/pgbench"
  for ((round = 1; round <= ROUNDS; round++)); do
    for workload in ${WORKLOADS}; do
      for clients in ${CLIENTS}; do
        for target in ${TARGETS}; do
          run=$((run + 1))
          run_one "${run}" "${round}" "${workload}" "${clients}" "${target}"
        done
      done
    done
  done
  log "letting the last statistics flush (${STATS_SETTLE_SECONDS} s)"
  sleep "${STATS_SETTLE_SECONDS}"
  for target in ${TARGETS}; do close_window "${target}"; done
}

# ---------------------------------------------------------------------------------------------------
# reporting

# shellcheck disable=SC2016 # backquotes are Markdown here
machine_description() {
  local pgv
  pgv="$(su_sql "${PRIMARY_PORT}" postgres -c 'show server_version')"
  printf -- '- machine: %s cores (`nproc`), %s, %s MB RAM\n' "$(nproc)" \
    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
    "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
  printf -- '- kernel: %s; %s\n' "$(uname -sr)" "$(. /etc/os-release && printf '%s' "${PRETTY_NAME}")"
  printf -- '- PostgreSQL %s (primary + 2 streaming replicas, scripts/cluster.sh: shared_buffers 32MB, fsync off)\n' "${pgv}"
  printf -- '- %s; %s; %s (commit %s%s)\n' "$(pgbouncer --version 2>/dev/null | head -n1)" \
    "$(pgpool --version 2>&1 | head -n1)" "$("${PGSPLIT_BIN}" --version 2>/dev/null | head -n1)" \
    "$(git -C "${REPO_ROOT}" rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$([[ -n "$(git -C "${REPO_ROOT}" status --porcelain --untracked-files=no 2>/dev/null)" ]] && echo ', modified')"
  printf -- '- load average when the run started: %s\n' "${LOAD_AT_START}"
}

# Per-cell summary lines from the raw runs and the statistics windows (tab separated):
# workload clients target ok/total tps_median lat_avg p50 p99 cpu_us_per_txn share P% R1% R2%
# server_xacts_per_txn conn_ms note
summarise_cells() {
  awk -F'\t' -v hz="$(getconf CLK_TCK)" -v shares="${SHARES_TSV}" '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " "); if (n == 0) return "-"
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    FILENAME == shares { dp[$1] = $2; dr1[$1] = $3; dr2[$1] = $4; next }
    {
      key = $3 SUBSEP $4 SUBSEP $5
      if (!(key in total)) { order[++ncells] = key }
      total[key]++
      run = $1
      p[key] += dp[run]; r1[key] += dr1[run]; r2[key] += dr2[run]; txsum[key] += $8
      if ($6 != "ok") { if (!(key in note)) note[key] = $6 ": " $14; next }
      ok[key]++
      tps[key] = tps[key] " " $7
      if ($9 != "-") { la[key] = la[key] " " $9; l50[key] = l50[key] " " $10; l99[key] = l99[key] " " $11 }
      if ($12 != "-" && $8 > 0) cpu[key] = cpu[key] " " ($12 / hz * 1e6 / $8)
      if ($13 != "-") conn[key] = conn[key] " " $13
    }
    END {
      for (c = 1; c <= ncells; c++) {
        key = order[c]; split(key, k, SUBSEP)
        sum = p[key] + r1[key] + r2[key]
        share = (sum > 0) ? sprintf("%.1f", 100 * (r1[key] + r2[key]) / sum) : "-"
        split_p = (sum > 0) ? sprintf("%.0f\t%.0f\t%.0f", 100 * p[key] / sum, 100 * r1[key] / sum, 100 * r2[key] / sum) : "-\t-\t-"
        xpt = (txsum[key] > 0) ? sprintf("%.2f", sum / txsum[key]) : "-"
        printf "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k[1], k[2], k[3], ok[key] + 0, total[key],
          median(tps[key]), median(la[key]), median(l50[key]), median(l99[key]), median(cpu[key]),
          share, split_p, xpt, median(conn[key]), (key in note) ? note[key] : "-"
      }
    }' "${SHARES_TSV}" "${RUNS_TSV}"
}

target_title() {
  case "$1" in
    direct) printf 'direct to primary' ;;
    pgbouncer) printf 'PgBouncer (primary)' ;;
    pgpool) printf 'Pgpool-II (LB 3 nodes)' ;;
    pgsplit) printf 'pgsplit (reads→replicas)' ;;
  esac
}

# shellcheck disable=SC2059 # the format is the argument
fmt() { # fmt VALUE PRINTF-FORMAT: "-" stays "-"
  if [[ "$1" == - || -z "$1" ]]; then printf -- '-'; else LC_ALL=C printf -- "$2" "$1"; fi
}

ratio() { # ratio A B
  if [[ "$1" == - || "$2" == - || -z "$1" || -z "$2" ]]; then printf -- '-'; else
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'
  fi
}

# shellcheck disable=SC2016 # backquotes are Markdown here
write_markdown() {
  local md="$1" cells="$2" workload clients target
  local -A tps_of=()
  while IFS=$'\t' read -r workload clients target _ tps _; do
    tps_of["${workload} ${clients} ${target}"]="${tps}"
  done <"${cells}"
  {
    printf '# pgsplit benchmark: %s\n\n' "${STARTED_AT}"
    ((QUICK)) && printf '**Quick mode (smoke run): one short round; not a measurement.**\n\n'
    printf 'Command: `%s`\n\n' "${COMMAND_LINE}"
    printf '%s rounds × %s s per run, clients: %s, pgbench scale %s; workloads interleaved round by round, targets A B C D within each cell.\n\n' \
      "${ROUNDS}" "${DURATION}" "${CLIENTS}" "${SCALE}"
    machine_description
    printf -- '- client (pgbench), middleboxes and all three servers share these cores: replicas add no capacity here\n\n'
    cat <<'TXT'
Columns: **TPS** is the median over rounds. **Latency** comes from pgbench's per-transaction log
(`--log`): per run the average, median (p50) and 99th percentile, then the median over rounds; with
`-C` it excludes the connection setup (see "CPU per new connection"). **CPU µs/txn** is the
middlebox's user + system CPU time (its whole process tree, from /proc) divided by the transactions
pgbench completed, median over rounds. **Replica share** is the share of the target database's
transactions (`pg_stat_database` xact_commit + xact_rollback deltas on each node) that ran on the
replicas, summed over rounds, with the primary / replica1 / replica2 split; direct and PgBouncer
rows are a sanity check (0 %). **Server xacts/txn** is those server transactions divided by the
transactions pgbench completed: about 1.00 when every server transaction is the client's own; more
means the middlebox (or a new backend's login, with -C) ran extra ones. Details: bench/README.md.

TXT
    printf '![TPS and CPU per transaction](%s)\n\n' "$(basename "${RESULT_BASE}").png"
    local w
    for w in ${WORKLOADS}; do
      printf '## %s\n\n' "$(workload_title "${w}")"
      printf '| clients | target | runs ok | TPS | × direct | × PgBouncer | lat avg ms | p50 ms | p99 ms | CPU µs/txn | replica share | P/R1/R2 %% | server xacts/txn |\n'
      printf '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n'
      local okn tps la l50 l99 cpu share sp sr1 sr2 xpt conn note
      while IFS=$'\t' read -r workload clients target okn tps la l50 l99 cpu share sp sr1 sr2 xpt conn note; do
        [[ "${workload}" == "${w}" ]] || continue
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${clients}" \
          "$(target_title "${target}")" "${okn}" "$(fmt "${tps}" '%.0f')" \
          "$(ratio "${tps}" "${tps_of["${w} ${clients} direct"]:--}")" \
          "$(ratio "${tps}" "${tps_of["${w} ${clients} pgbouncer"]:--}")" \
          "$(fmt "${la}" '%.3f')" "$(fmt "${l50}" '%.3f')" "$(fmt "${l99}" '%.3f')" "$(fmt "${cpu}" '%.1f')" \
          "$(fmt "${share}" '%s %%')" "${sp}/${sr1}/${sr2}" "${xpt}"
      done <"${cells}"
      printf '\n'
    done
    if [[ " ${WORKLOADS} " == *" connect "* && " ${WORKLOADS} " == *" select "* ]]; then
      printf '## CPU per new connection\n\n'
      printf 'Middlebox CPU µs per transaction with `-C -S` minus the same with `-S` (same clients): the cost of accepting, authenticating and tearing down one client connection. Connect ms is pgbench'"'"'s average connection time (client side).\n\n'
      printf '| clients | target | CPU µs/connection | connect ms |\n|---:|---|---:|---:|\n'
      local -A cpu_of=() conn_of=()
      while IFS=$'\t' read -r workload clients target okn tps la l50 l99 cpu share sp sr1 sr2 xpt conn note; do
        cpu_of["${workload} ${clients} ${target}"]="${cpu}"
        conn_of["${workload} ${clients} ${target}"]="${conn}"
      done <"${cells}"
      for clients in ${CLIENTS}; do
        for target in ${TARGETS}; do
          local cc="${cpu_of["connect ${clients} ${target}"]:--}" cs="${cpu_of["select ${clients} ${target}"]:--}" per="-"
          [[ "${cc}" != - && "${cs}" != - ]] && per="$(awk -v a="${cc}" -v b="${cs}" 'BEGIN { printf "%.0f", a - b }')"
          printf '| %s | %s | %s | %s |\n' "${clients}" "$(target_title "${target}")" "${per}" \
            "$(fmt "${conn_of["connect ${clients} ${target}"]:--}" '%.3f')"
        done
      done
      printf '\n'
    fi
    printf '## Failures and logs\n\n'
    local any=0
    while IFS=$'\t' read -r workload clients target okn tps la l50 l99 cpu share sp sr1 sr2 xpt conn note; do
      [[ "${note}" == - ]] && continue
      any=1
      printf -- '- %s, %s clients, %s: %s runs ok; first failure: `%s`\n' "${workload}" "${clients}" "${target}" "${okn}" "${note}"
    done <"${cells}"
    if ((any)); then
      printf -- '- pgbench output of every failed run: %s.failed-run<N>.log\n' "$(basename "${RESULT_BASE}")"
    else
      printf -- '- every run completed\n'
    fi
    local name n
    for name in pgbouncer pgpool pgsplit; do
      wants_target "${name}" || continue
      if [[ -s "${WORK}/${name}.log" ]]; then
        n="$(grep -ciE 'warn|error|fatal|critical|panic' "${WORK}/${name}.log" || true)"
        printf -- '- %s log: %s lines at warning level or above (%s)\n' "${name}" "${n:-0}" "$(basename "${RESULT_BASE}").${name}.log"
      else
        printf -- '- %s log: empty\n' "${name}"
      fi
    done
    printf '\nRaw per-run data: %s (run, round, workload, clients, target, status, tps, transactions, latency avg/p50/p99 ms, CPU ticks, connect ms, note) and %s (run, primary, replica1, replica2 transaction deltas).\n' \
      "$(basename "${RESULT_BASE}").runs.tsv" "$(basename "${RESULT_BASE}").shares.tsv"
  } >"${md}"
}

# Two panels: TPS (log scale) per cell and target; middlebox CPU µs per transaction.
write_chart() {
  local cells="$1" png="$2" data="${WORK}/chart.dat" w c t
  local -A tps_of=() cpu_of=()
  local workload clients target okn tps la l50 l99 cpu rest
  while IFS=$'\t' read -r workload clients target okn tps la l50 l99 cpu rest; do
    tps_of["${workload} ${clients} ${target}"]="${tps}"
    cpu_of["${workload} ${clients} ${target}"]="${cpu}"
  done <"${cells}"
  : >"${data}"
  for w in ${WORKLOADS}; do
    for c in ${CLIENTS}; do
      printf '"%s c%s"' "${w}" "${c}" >>"${data}"
      for t in ${ALL_TARGETS}; do
        local v="${tps_of["${w} ${c} ${t}"]:--}"
        [[ "${v}" == - ]] && v="?"
        printf ' %s' "${v}" >>"${data}"
      done
      for t in ${ALL_TARGETS}; do
        local v="${cpu_of["${w} ${c} ${t}"]:--}"
        [[ "${v}" == - ]] && v="?"
        printf ' %s' "${v}" >>"${data}"
      done
      printf '\n' >>"${data}"
    done
  done
  local title="pgbench: direct / PgBouncer / Pgpool-II / pgsplit, ${STARTED_AT}"
  ((QUICK)) && title+=" (quick smoke run, not a measurement)"
  gnuplot >"${WORK}/gnuplot.log" 2>&1 <<EOF || { log "warning: gnuplot failed: $(tail -n 3 "${WORK}/gnuplot.log")"; return 0; }
set terminal pngcairo size 1400,900 font ",10"
set output '${png}'
set datafile missing '?'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set grid ytics
set xtics rotate by -35
set multiplot layout 2,1 title "${title}"
set title "TPS (median over ${ROUNDS} rounds, log scale)"
set logscale y
plot '${data}' using 2:xtic(1) title 'direct', '' using 3 title 'PgBouncer', '' using 4 title 'Pgpool-II', '' using 5 title 'pgsplit'
set title "middlebox CPU µs per transaction (median, log scale)"
plot '${data}' using 7:xtic(1) title 'PgBouncer' lc 2, '' using 8 title 'Pgpool-II' lc 3, '' using 9 title 'pgsplit' lc 4
unset multiplot
EOF
}

report() {
  local stamp_base cells="${WORK}/cells.tsv"
  summarise_cells >"${cells}"
  cp "${RUNS_TSV}" "${RESULT_BASE}.runs.tsv"
  cp "${SHARES_TSV}" "${RESULT_BASE}.shares.tsv"
  write_chart "${cells}" "${RESULT_BASE}.png"
  write_markdown "${RESULT_BASE}.md" "${cells}"
  cp "${RESULT_BASE}.md" "${OUT_DIR}/latest.md"
  stamp_base="$(basename "${RESULT_BASE}")"
  log "results: ${RESULT_BASE}.md (also latest.md), ${stamp_base}.png, ${stamp_base}.runs.tsv"
  cat "${RESULT_BASE}.md"
}

# ---------------------------------------------------------------------------------------------------

main() {
  COMMAND_LINE="bench/run.sh${*:+ $*}"
  parse_args "$@"
  STARTED_AT="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  if ((INSTALL)); then install_packages; fi
  check_tools
  WORK="$(mktemp -d /tmp/pgsplit-bench.XXXXXX)"
  chmod 755 "${WORK}"
  [[ "$(id -u)" -eq 0 ]] && chown "${SERVICE_USER}:" "${WORK}"
  set_run_as
  mkdir -p "${OUT_DIR}"
  RESULT_BASE="${OUT_DIR}/$(date -u -d "${STARTED_AT}" +%Y%m%dT%H%M%SZ)"
  RUNS_TSV="${WORK}/runs.tsv"
  SHARES_TSV="${WORK}/shares.tsv"
  : >"${RUNS_TSV}"
  : >"${SHARES_TSV}"

  build_pgsplit
  start_cluster
  load_data
  start_middleboxes
  warm_up
  run_matrix
  report
}

main "$@"
