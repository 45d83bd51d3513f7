#!/usr/bin/env bash
# A local PostgreSQL 15 cluster for pgsplit's tests and demo: one primary and two streaming replicas on
# 127.0.0.1, all under one directory.
#
#   scripts/cluster.sh start  DIR          build (or restart) the cluster, wait until both replicas stream
#   scripts/cluster.sh stop   DIR [--wipe] stop its servers (replicas first); --wipe also deletes DIR
#   scripts/cluster.sh status DIR          show each node; exit 0 when all three run, 3 otherwise
#
# Layout of DIR (normally; see the root fallback below): primary/ replica1/ replica2/ (data
# directories), primary.log replica1.log replica2.log (server logs), *.setup.log (output of initdb,
# role creation, pg_basebackup), cluster.env (written last: the cluster is complete once it exists),
# .pgsplit-cluster (marker: only a directory carrying it is ever wiped), .socket_dir/.data_dir (only
# in the long-path and root fallbacks below).
#
# cluster.env is sourceable shell, one KEY=value per line, nothing else: PGHOST PRIMARY_PORT REPLICA1_PORT REPLICA2_PORT PG_BINDIR
# CLUSTER_DIR DATA_DIR SOCKET_DIR SUPERUSER SUPERUSER_PASSWORD APP_USER APP_PASSWORD APP_DB MD5_USER
# MD5_PASSWORD.
# Roles: postgres/postgres (superuser, SCRAM), app/app (SCRAM, owns database app), md5user/md5pw (MD5),
# replicator/replicator (REPLICATION). Unix-socket connections are trusted; TCP needs a password.
#
# Ports: three free loopback ports, chosen from a random start and preferably below the kernel's
# ephemeral range (20000..32767 on a default Linux), skipping every port /proc/net/tcp{,6} shows in
# use; or PGSPLIT_CLUSTER_PORTS="p1 p2 p3" (primary, replica1, replica2).
# Unix sockets live in DIR itself (the data root); when it is too long for the 107-byte socket path limit they live in
# a directory /tmp/pgsplit-sock.XXXXXX that this script creates, records in DIR/.socket_dir and deletes
# on `stop --wipe`. SOCKET_DIR in cluster.env always names the one in use.
#
# As root, every PostgreSQL program runs as the OS user `postgres` (runuser), and DIR is created and
# owned by postgres. If postgres cannot reach DIR (a parent without o+x, e.g. a checkout under /root),
# the script does not change permissions outside DIR; instead it falls back: the data directories and
# server logs go to a new postgres-owned /tmp/pgsplit-cluster-data.XXXXXX, recorded in DIR/.data_dir
# and symlinked from DIR (DIR/primary, DIR/primary.log, ...), so DIR keeps the same layout for root;
# cluster.env (DATA_DIR=) names it, a note on stderr names the blocking directory, and `stop --wipe`
# deletes it. As any other user, everything runs as that user, in DIR.
#
# start is idempotent: a complete cluster that runs is left alone (exit 0); stopped nodes are restarted
# on their recorded ports when those are free; otherwise (ports taken, half-built DIR from a crashed
# run, failed restart) DIR is wiped and built again. A DIR that exists, is not empty and lacks the
# marker is refused, never wiped.
#
# Concurrent invocations on the same DIR are serialised with flock on /tmp/pgsplit-cluster.<cksum>.lock
# (removed by `stop --wipe`).
#
# Environment: PG_BINDIR (default /usr/lib/postgresql/15/bin), PGSPLIT_CLUSTER_PORTS,
# PGSPLIT_CLUSTER_TIMEOUT (seconds to wait for streaming, default 60).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

PG_BINDIR="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"
REQUESTED_PORTS="${PGSPLIT_CLUSTER_PORTS:-}"
WAIT_TIMEOUT="${PGSPLIT_CLUSTER_TIMEOUT:-60}"
readonly PG_BINDIR REQUESTED_PORTS WAIT_TIMEOUT
[[ "${WAIT_TIMEOUT}" =~ ^[0-9]+$ ]] || { echo "cluster: error: PGSPLIT_CLUSTER_TIMEOUT must be a number of seconds" >&2; exit 1; }

# Settings from the caller's environment (PGHOST, PGPORT, PGOPTIONS, PGDATA, ...) must not leak into
# the PostgreSQL programs run here: every connection below is spelled out in full.
while IFS= read -r _var; do
  case "${_var}" in
    PGSPLIT_* | PG_*) ;;
    PG*) unset "${_var}" ;;
  esac
done < <(compgen -e)
unset _var

readonly NODES=(primary replica1 replica2)
readonly SUPERUSER=postgres SUPERUSER_PASSWORD=postgres
readonly APP_USER=app APP_PASSWORD=app APP_DB=app
readonly MD5_USER=md5user MD5_PASSWORD=md5pw
readonly REPL_USER=replicator REPL_PASSWORD=replicator
readonly MARKER=.pgsplit-cluster
readonly PG_USER=postgres

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '5,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

IS_ROOT=0
[[ "$(id -u)" -eq 0 ]] && IS_ROOT=1
readonly IS_ROOT

# Run a PostgreSQL program as the user owning the cluster. Fd 9 (our lock, below) is closed for it:
# a server started through pg_ctl would otherwise hold the lock for as long as it runs.
as_pg() {
  if ((IS_ROOT)); then
    runuser -u "${PG_USER}" -- "$@" 9>&-
  else
    "$@" 9>&-
  fi
}

# ---------------------------------------------------------------------------------------------------
# arguments

(($# >= 2)) || { usage >&2; exit 2; }
ACTION="$1"
RAW_DIR="$2"
shift 2
WIPE=0
while (($# > 0)); do
  case "$1" in
    --wipe) [[ "${ACTION}" == stop ]] || die "--wipe is only valid with stop"; WIPE=1 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
case "${ACTION}" in
  start | stop | status) ;;
  *) usage >&2; die "unknown action: ${ACTION}" ;;
esac

[[ -n "${RAW_DIR}" ]] || die "DIR must not be empty"
DIR="$(realpath -m -- "${RAW_DIR}")"
case "${DIR}" in
  / | /tmp | /root | /home | /usr | /var | /etc | "${REPO_ROOT}") die "refusing to use ${DIR} as a cluster directory" ;;
esac
[[ "${DIR}" != *[[:space:]]* ]] || die "DIR must not contain whitespace: ${DIR}"
readonly DIR

for prog in initdb pg_ctl pg_basebackup psql; do
  [[ -x "${PG_BINDIR}/${prog}" ]] || die "${PG_BINDIR}/${prog} not found (install postgresql-15: scripts/install-deps.sh)"
done
if ((IS_ROOT)); then
  id -u "${PG_USER}" >/dev/null 2>&1 || die "running as root but there is no '${PG_USER}' OS user (install postgresql-15)"
  command -v runuser >/dev/null 2>&1 || die "runuser not found (util-linux)"
fi

# Programs run as postgres must not inherit a working directory postgres cannot enter (e.g. /root).
cd /

# Serialise concurrent invocations on the same DIR.
LOCK_FILE="/tmp/pgsplit-cluster.$(printf '%s' "${DIR}" | cksum | cut -d' ' -f1).lock"
if { exec 9>>"${LOCK_FILE}"; } 2>/dev/null; then
  flock -w 300 9 || die "another cluster.sh has been working on ${DIR} for 5 minutes (lock ${LOCK_FILE})"
fi

# ---------------------------------------------------------------------------------------------------
# helpers

# Where the servers' data directories and logs live: DIR, except in the root fallback described at the
# top (recorded in DIR/.data_dir).
resolve_data_root() {
  DATA_ROOT="${DIR}"
  if [[ -f "${DIR}/.data_dir" ]]; then
    DATA_ROOT="$(head -n1 "${DIR}/.data_dir")"
    [[ "${DATA_ROOT}" == /tmp/pgsplit-cluster-data.* ]] || die "unexpected content in ${DIR}/.data_dir: ${DATA_ROOT}"
  fi
}
resolve_data_root

node_dir() { printf '%s/%s' "${DATA_ROOT}" "$1"; }
node_log() { printf '%s/%s.log' "${DATA_ROOT}" "$1"; }

# True when the node's postmaster runs: its postmaster.pid names a live process and pg_ctl agrees.
node_running() {
  local d pid
  d="$(node_dir "$1")"
  [[ -f "${d}/postmaster.pid" ]] || return 1
  pid="$(head -n1 "${d}/postmaster.pid" 2>/dev/null || true)"
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  kill -0 "${pid}" 2>/dev/null || return 1
  as_pg "${PG_BINDIR}/pg_ctl" -D "${d}" status >/dev/null 2>&1
}

# Local TCP ports in use, one per line, from /proc/net/tcp and /proc/net/tcp6: listeners, and also
# connected sockets (an outgoing connection's port cannot be bound either); TIME_WAIT (state 06) does
# not count, PostgreSQL binds with SO_REUSEADDR.
ports_in_use() {
  local f
  for f in /proc/net/tcp /proc/net/tcp6; do
    [[ -r "${f}" ]] || continue
    awk 'NR > 1 && $4 != "06" { split($2, a, ":"); print a[2] }' "${f}"
  done | sort -u | while read -r hex; do printf '%d\n' "$((16#${hex}))"; done
}

port_free() {
  local used
  used="$(ports_in_use)"
  ! grep -qx -- "$1" <<<"${used}"
}

# Three free ports on stdout, "p1 p2 p3".
pick_ports() {
  local lo=20000 hi=60000 eph_lo
  read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=0
  if [[ "${eph_lo}" =~ ^[0-9]+$ ]] && ((eph_lo - 1 - lo >= 1000)); then
    hi=$((eph_lo - 1)) # stay out of the range the kernel hands to outgoing connections
  fi
  local -A used=()
  local p
  while read -r p; do used[${p}]=1; done < <(ports_in_use)
  local span=$((hi - lo + 1))
  local start=$((lo + (RANDOM * 32768 + RANDOM) % span))
  local picked=() i
  for ((i = 0; i < span && ${#picked[@]} < 3; i++)); do
    p=$((lo + (start - lo + i) % span))
    [[ -z "${used[${p}]:-}" ]] && picked+=("${p}")
  done
  ((${#picked[@]} == 3)) || die "could not find three free TCP ports in ${lo}-${hi}"
  printf '%s %s %s\n' "${picked[@]}"
}

# psql as the superuser over the Unix socket (trusted); extra arguments follow.
pg_sql() {
  local port="$1"
  shift
  as_pg "${PG_BINDIR}/psql" -X -w -q -A -t -v ON_ERROR_STOP=1 \
    -h "${SOCKET_DIR}" -p "${port}" -U "${SUPERUSER}" -d postgres "$@"
}

print_log_tails() {
  local n f
  for n in "${NODES[@]}"; do
    f="$(node_log "${n}")"
    [[ -f "${f}" ]] || continue
    printf '\n----- last lines of %s -----\n' "${f}" >&2
    tail -n 30 "${f}" >&2 || true
  done
  for f in "${DIR}"/*.setup.log; do
    [[ -f "${f}" ]] || continue
    printf '\n----- last lines of %s -----\n' "${f}" >&2
    tail -n 15 "${f}" >&2 || true
  done
}

stop_node() {
  local n="$1" d
  d="$(node_dir "${n}")"
  node_running "${n}" || return 0
  if ! as_pg "${PG_BINDIR}/pg_ctl" -D "${d}" stop -m fast -w -t 20 >/dev/null 2>&1; then
    log "${n}: fast shutdown timed out, using immediate"
    as_pg "${PG_BINDIR}/pg_ctl" -D "${d}" stop -m immediate -w -t 10 >/dev/null 2>&1 || true
  fi
  if node_running "${n}"; then
    log "${n}: could not be stopped (pid $(head -n1 "${d}/postmaster.pid" 2>/dev/null || echo '?'))"
    return 1
  fi
  return 0
}

stop_all() {
  local n rc=0 stopped=()
  for n in replica2 replica1 primary; do
    if node_running "${n}"; then
      stop_node "${n}" || rc=1
      stopped+=("${n}")
    fi
  done
  if ((${#stopped[@]} > 0)); then
    log "stopped ${stopped[*]} in ${DIR}"
  fi
  return "${rc}"
}

# Recorded socket dir if any (long DIR case), else the data root (normally DIR).
recorded_socket_dir() {
  local s=""
  [[ -f "${DIR}/.socket_dir" ]] && s="$(head -n1 "${DIR}/.socket_dir")"
  if [[ -n "${s}" ]]; then printf '%s' "${s}"; else printf '%s' "${DATA_ROOT}"; fi
}

# Deletes DIR (and the /tmp socket or data directory it recorded). Refuses a non-empty DIR without
# the marker.
wipe_dir() {
  [[ -e "${DIR}" ]] || return 0
  [[ -d "${DIR}" ]] || die "${DIR} exists and is not a directory"
  if [[ ! -f "${DIR}/${MARKER}" ]] && [[ -n "$(ls -A "${DIR}")" ]]; then
    die "${DIR} is not empty and was not created by cluster.sh (no ${MARKER}); refusing to delete it"
  fi
  local s
  s="$(recorded_socket_dir)"
  if [[ "${s}" == /tmp/pgsplit-sock.* ]]; then
    rm -rf -- "${s}"
  fi
  if [[ "${DATA_ROOT}" == /tmp/pgsplit-cluster-data.* ]]; then
    rm -rf -- "${DATA_ROOT}"
  fi
  DATA_ROOT="${DIR}"
  rm -rf -- "${DIR}"
}

# First ancestor of $1 (itself included) the postgres user cannot enter, or nothing.
first_blocked_ancestor() {
  local path="" part
  local -a parts
  IFS=/ read -r -a parts <<<"${1#/}"
  for part in "${parts[@]}"; do
    path="${path}/${part}"
    [[ -d "${path}" ]] || return 0
    if ! runuser -u "${PG_USER}" -- test -x "${path}"; then
      printf '%s' "${path}"
      return 0
    fi
  done
}

# Creates DIR with the marker. As root, DIR is owned by postgres; if postgres cannot reach DIR (a
# parent without o+x, e.g. /root), the data directories and logs go to a new postgres-owned
# /tmp/pgsplit-cluster-data.XXXXXX instead, recorded in DIR/.data_dir and symlinked from DIR.
make_dir() {
  (umask 022 && mkdir -p -- "${DIR}")
  : >"${DIR}/${MARKER}"
  rm -f -- "${DIR}/.data_dir"
  DATA_ROOT="${DIR}"
  ((IS_ROOT)) || return 0
  chmod 755 "${DIR}"
  chown "${PG_USER}:" "${DIR}"
  if runuser -u "${PG_USER}" -- test -d "${DIR}" -a -w "${DIR}" -a -x "${DIR}"; then
    return 0
  fi
  local blocked
  blocked="$(first_blocked_ancestor "${DIR}")"
  [[ -n "${blocked}" ]] || blocked="${DIR}"
  DATA_ROOT="$(mktemp -d /tmp/pgsplit-cluster-data.XXXXXX)"
  chmod 755 "${DATA_ROOT}"
  chown "${PG_USER}:" "${DATA_ROOT}"
  printf '%s\n' "${DATA_ROOT}" >"${DIR}/.data_dir"
  local n
  for n in "${NODES[@]}"; do
    ln -sfn -- "$(node_dir "${n}")" "${DIR}/${n}"
    ln -sfn -- "$(node_log "${n}")" "${DIR}/${n}.log"
  done
  log "note: the '${PG_USER}' OS user cannot reach ${DIR} (no search permission on ${blocked}," \
    "$(stat -c '%A %U:%G' "${blocked}")); the servers' data and logs go to ${DATA_ROOT}" \
    "(symlinked from ${DIR}, deleted by stop --wipe)"
}

# Socket directory for a fresh build: DIR when short enough, else a new /tmp/pgsplit-sock.XXXXXX.
choose_socket_dir() {
  # sun_path holds 107 bytes + NUL; the socket file is "<dir>/.s.PGSQL.<port>" (<= 15 bytes).
  if ((${#DATA_ROOT} <= 90)); then
    SOCKET_DIR="${DATA_ROOT}"
    rm -f -- "${DIR}/.socket_dir"
  else
    SOCKET_DIR="$(mktemp -d /tmp/pgsplit-sock.XXXXXX)"
    chmod 755 "${SOCKET_DIR}"
    ((IS_ROOT)) && chown "${PG_USER}:" "${SOCKET_DIR}"
    printf '%s\n' "${SOCKET_DIR}" >"${DIR}/.socket_dir"
  fi
}

# Makes sure the recorded socket dir exists (a /tmp one may have vanished, e.g. after a reboot).
ensure_socket_dir() {
  SOCKET_DIR="$(recorded_socket_dir)"
  if [[ ! -d "${SOCKET_DIR}" ]]; then
    (umask 022 && mkdir -p -- "${SOCKET_DIR}")
    ((IS_ROOT)) && chown "${PG_USER}:" "${SOCKET_DIR}"
  fi
  return 0
}

start_node() {
  local n="$1"
  as_pg "${PG_BINDIR}/pg_ctl" -D "$(node_dir "${n}")" -l "$(node_log "${n}")" -w -t 60 start >/dev/null
}

# Waits until the primary sees both replicas streaming and both are in recovery.
wait_streaming() {
  local deadline=$((SECONDS + WAIT_TIMEOUT)) streaming r1 r2
  while :; do
    streaming="$(pg_sql "${PRIMARY_PORT}" -c \
      "select count(*) from pg_stat_replication where state = 'streaming' and application_name in ('replica1', 'replica2')" 2>/dev/null || true)"
    if [[ "${streaming}" == 2 ]]; then
      r1="$(pg_sql "${REPLICA1_PORT}" -c 'select pg_is_in_recovery()' 2>/dev/null || true)"
      r2="$(pg_sql "${REPLICA2_PORT}" -c 'select pg_is_in_recovery()' 2>/dev/null || true)"
      [[ "${r1}" == t && "${r2}" == t ]] && return 0
    fi
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

read_env() {
  local key value
  PRIMARY_PORT="" REPLICA1_PORT="" REPLICA2_PORT=""
  while IFS='=' read -r key value; do
    case "${key}" in
      PRIMARY_PORT) PRIMARY_PORT="${value}" ;;
      REPLICA1_PORT) REPLICA1_PORT="${value}" ;;
      REPLICA2_PORT) REPLICA2_PORT="${value}" ;;
    esac
  done <"${DIR}/cluster.env"
  [[ "${PRIMARY_PORT}" =~ ^[0-9]+$ && "${REPLICA1_PORT}" =~ ^[0-9]+$ && "${REPLICA2_PORT}" =~ ^[0-9]+$ ]]
}

node_port() {
  case "$1" in
    primary) printf '%s' "${PRIMARY_PORT}" ;;
    replica1) printf '%s' "${REPLICA1_PORT}" ;;
    replica2) printf '%s' "${REPLICA2_PORT}" ;;
  esac
}

write_env() {
  local tmp="${DIR}/.cluster.env.tmp"
  cat >"${tmp}" <<EOF
PGHOST=127.0.0.1
PRIMARY_PORT=${PRIMARY_PORT}
REPLICA1_PORT=${REPLICA1_PORT}
REPLICA2_PORT=${REPLICA2_PORT}
PG_BINDIR=${PG_BINDIR}
CLUSTER_DIR=${DIR}
DATA_DIR=${DATA_ROOT}
SOCKET_DIR=${SOCKET_DIR}
SUPERUSER=${SUPERUSER}
SUPERUSER_PASSWORD=${SUPERUSER_PASSWORD}
APP_USER=${APP_USER}
APP_PASSWORD=${APP_PASSWORD}
APP_DB=${APP_DB}
MD5_USER=${MD5_USER}
MD5_PASSWORD=${MD5_PASSWORD}
EOF
  chmod 644 "${tmp}"
  mv -f -- "${tmp}" "${DIR}/cluster.env"
}

print_summary() {
  local how="$1"
  printf 'cluster: %s: %s\n' "${how}" "${DIR}"
  printf '  primary   127.0.0.1:%s\n' "${PRIMARY_PORT}"
  printf '  replica1  127.0.0.1:%s (streaming)\n' "${REPLICA1_PORT}"
  printf '  replica2  127.0.0.1:%s (streaming)\n' "${REPLICA2_PORT}"
  printf '  env       %s/cluster.env\n' "${DIR}"
  printf '  try       PGPASSWORD=%s %s/psql -h 127.0.0.1 -p %s -U %s %s\n' \
    "${APP_PASSWORD}" "${PG_BINDIR}" "${PRIMARY_PORT}" "${APP_USER}" "${APP_DB}"
}

# ---------------------------------------------------------------------------------------------------
# start: fresh build

configure_primary() {
  local d="$1"
  cat >>"${d}/postgresql.conf" <<EOF

# ---- pgsplit test cluster (scripts/cluster.sh) ----
listen_addresses = '127.0.0.1'
port = ${PRIMARY_PORT}
unix_socket_directories = '${SOCKET_DIR}'
cluster_name = 'primary'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 256MB
hot_standby = on
max_connections = 300
shared_buffers = 32MB
fsync = off
synchronous_commit = on
full_page_writes = off
logging_collector = off
EOF
  cat >"${d}/pg_hba.conf" <<EOF
# pgsplit test cluster (scripts/cluster.sh)
# TYPE  DATABASE     USER      ADDRESS        METHOD
local   all          all                      trust
local   replication  all                      trust
host    all          ${MD5_USER}   127.0.0.1/32   md5
host    all          all       127.0.0.1/32   scram-sha-256
host    replication  all       127.0.0.1/32   scram-sha-256
EOF
}

# Exit status of a fresh build whose port was taken by someone else in the meantime.
readonly EXIT_PORT_RACE=75

node_start_failed() {
  if [[ -z "${REQUESTED_PORTS}" ]] && grep -q 'Address already in use' "$(node_log "$1")" 2>/dev/null; then
    log "$1: port $(node_port "$1") was taken in the meantime"
    exit "${EXIT_PORT_RACE}"
  fi
  die "$1 did not start"
}

build_fresh() {
  local ports
  if [[ -n "${REQUESTED_PORTS}" ]]; then
    ports="${REQUESTED_PORTS}"
  else
    ports="$(pick_ports)"
  fi
  read -r PRIMARY_PORT REPLICA1_PORT REPLICA2_PORT _ <<<"${ports}"
  local p
  for p in "${PRIMARY_PORT}" "${REPLICA1_PORT}" "${REPLICA2_PORT}"; do
    if ! [[ "${p}" =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535)); then
      die "bad port '${p}' (PGSPLIT_CLUSTER_PORTS=\"${REQUESTED_PORTS}\")"
    fi
    port_free "${p}" || die "port ${p} is already in use on this machine"
  done

  make_dir
  choose_socket_dir
  log "building in ${DIR} on ports ${PRIMARY_PORT} ${REPLICA1_PORT} ${REPLICA2_PORT}"

  local pd pwfile
  pd="$(node_dir primary)"
  pwfile="${DATA_ROOT}/.pwfile"
  (umask 077 && printf '%s\n' "${SUPERUSER_PASSWORD}" >"${pwfile}")
  ((IS_ROOT)) && chown "${PG_USER}:" "${pwfile}"
  as_pg "${PG_BINDIR}/initdb" -D "${pd}" -U "${SUPERUSER}" --pwfile="${pwfile}" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-sync \
    >"${DIR}/initdb.setup.log" 2>&1 || die "initdb failed (see ${DIR}/initdb.setup.log)"
  rm -f -- "${pwfile}"
  configure_primary "${pd}"
  start_node primary || node_start_failed primary

  pg_sql "${PRIMARY_PORT}" >"${DIR}/roles.setup.log" 2>&1 <<EOF || die "creating roles failed (see ${DIR}/roles.setup.log)"
CREATE ROLE ${APP_USER} LOGIN PASSWORD '${APP_PASSWORD}';
CREATE DATABASE ${APP_DB} OWNER ${APP_USER};
SET password_encryption = 'md5';
CREATE ROLE ${MD5_USER} LOGIN PASSWORD '${MD5_PASSWORD}';
RESET password_encryption;
CREATE ROLE ${REPL_USER} LOGIN REPLICATION PASSWORD '${REPL_PASSWORD}';
EOF

  # Both base backups at once (each creates its own physical slot; -R writes primary_conninfo,
  # including the password and application_name, and primary_slot_name to postgresql.auto.conf).
  local r pids=() rd
  for r in replica1 replica2; do
    rd="$(node_dir "${r}")"
    as_pg "${PG_BINDIR}/pg_basebackup" -D "${rd}" -R -X stream -c fast -C -S "${r}" --no-sync \
      -d "host=127.0.0.1 port=${PRIMARY_PORT} user=${REPL_USER} password=${REPL_PASSWORD} application_name=${r}" \
      >"${DIR}/${r}.basebackup.setup.log" 2>&1 &
    pids+=($!)
  done
  local i
  for i in 0 1; do
    r="replica$((i + 1))"
    wait "${pids[${i}]}" || die "pg_basebackup for ${r} failed (see ${DIR}/${r}.basebackup.setup.log)"
  done
  for r in replica1 replica2; do
    cat >>"$(node_dir "${r}")/postgresql.conf" <<EOF

# ---- ${r} overrides (scripts/cluster.sh) ----
port = $(node_port "${r}")
cluster_name = '${r}'
EOF
  done
  start_node replica1 || node_start_failed replica1
  start_node replica2 || node_start_failed replica2
  wait_streaming || die "the replicas were not streaming after ${WAIT_TIMEOUT}s"
  write_env
}

# ---------------------------------------------------------------------------------------------------
# start: reuse or restart

# Returns 0 when an existing complete cluster is (now) running; 1 when it must be rebuilt.
try_reuse() {
  [[ -f "${DIR}/cluster.env" && -f "${DIR}/${MARKER}" ]] || return 1
  local n
  for n in "${NODES[@]}"; do
    [[ -f "$(node_dir "${n}")/PG_VERSION" ]] || return 1
  done
  read_env || { log "unreadable ${DIR}/cluster.env"; return 1; }
  if [[ -n "${REQUESTED_PORTS}" && "${REQUESTED_PORTS}" != "${PRIMARY_PORT} ${REPLICA1_PORT} ${REPLICA2_PORT}" ]]; then
    log "PGSPLIT_CLUSTER_PORTS=\"${REQUESTED_PORTS}\" differs from the recorded ports"
    return 1
  fi
  ensure_socket_dir

  local stopped=()
  for n in "${NODES[@]}"; do
    node_running "${n}" || stopped+=("${n}")
  done
  if ((${#stopped[@]} == 0)); then
    if wait_streaming; then
      print_summary "already running"
      exit 0
    fi
    log "running, but the replicas do not stream"
    return 1
  fi
  for n in "${stopped[@]}"; do
    if ! port_free "$(node_port "${n}")"; then
      log "recorded port $(node_port "${n}") of ${n} is taken by another process"
      return 1
    fi
  done
  log "restarting ${stopped[*]} on the recorded ports"
  for n in "${stopped[@]}"; do
    if ! start_node "${n}"; then
      log "${n} did not start"
      print_log_tails
      return 1
    fi
  done
  if ! wait_streaming; then
    log "the replicas were not streaming after ${WAIT_TIMEOUT}s"
    print_log_tails
    return 1
  fi
  print_summary "restarted"
  exit 0
}

cmd_start() {
  local t0=${SECONDS}
  if [[ -e "${DIR}" && ! -d "${DIR}" ]]; then
    die "${DIR} exists and is not a directory"
  fi
  if [[ -d "${DIR}" && ! -f "${DIR}/${MARKER}" && -n "$(ls -A "${DIR}")" ]]; then
    die "${DIR} is not empty and was not created by cluster.sh (no ${MARKER}); refusing to use it"
  fi
  if [[ -d "${DIR}" ]]; then
    # try_reuse exits 0 when the cluster is up; it handles its own errors (set -e is off inside it).
    if try_reuse; then :; fi
    log "rebuilding ${DIR} from scratch"
    stop_all || die "could not stop the servers in ${DIR}"
    wipe_dir
  fi

  # A fresh build runs in a subshell so that a port another process grabbed between our choice and
  # the server's bind can be retried with new ports. On any other failure: show the logs, stop what
  # was started, and leave DIR without cluster.env (so the next start rebuilds it).
  local attempt rc
  for attempt in 1 2 3; do
    set +e
    (
      set -e
      trap 'rc=$?; if ((rc != 0)); then
              ((rc == EXIT_PORT_RACE)) || print_log_tails
              rm -f -- "${DIR}/cluster.env"; stop_all || true
              if ((rc != EXIT_PORT_RACE)) && [[ -d "${DIR}" ]]; then log "start failed; logs are in ${DIR}"; fi
            fi' EXIT
      build_fresh
    )
    rc=$?
    set -e
    resolve_data_root # the subshell may have chosen a fallback data root
    ((rc == 0)) && break
    ((rc == EXIT_PORT_RACE && attempt < 3)) || exit "${rc}"
    log "retrying with other ports"
    wipe_dir
  done
  read_env || die "unreadable ${DIR}/cluster.env"
  SOCKET_DIR="$(recorded_socket_dir)"
  print_summary "started in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------------------------------
# stop / status

cmd_stop() {
  if [[ ! -d "${DIR}" ]]; then
    log "nothing to stop: ${DIR} does not exist"
    return 0
  fi
  local any=0 n
  for n in "${NODES[@]}"; do
    node_running "${n}" && any=1
  done
  if ((any)); then
    stop_all || die "some servers in ${DIR} could not be stopped"
  else
    log "nothing running in ${DIR}"
  fi
  if ((WIPE)); then
    wipe_dir
    rm -f -- "${LOCK_FILE}"
    log "deleted ${DIR}"
  fi
}

cmd_status() {
  if [[ ! -d "${DIR}" ]]; then
    printf 'cluster: %s does not exist\n' "${DIR}"
    exit 3
  fi
  PRIMARY_PORT="?" REPLICA1_PORT="?" REPLICA2_PORT="?"
  [[ -f "${DIR}/cluster.env" ]] && { read_env || true; }
  SOCKET_DIR="$(recorded_socket_dir)"
  local all=1 n state port rec
  printf 'cluster: %s%s\n' "${DIR}" "$([[ -f "${DIR}/cluster.env" ]] || echo ' (incomplete: no cluster.env)')"
  for n in "${NODES[@]}"; do
    port="$(node_port "${n}")"
    if node_running "${n}"; then
      state=running
      rec="$(pg_sql "${port}" -c 'select pg_is_in_recovery()' 2>/dev/null || echo '?')"
      case "${rec}" in t) rec="in recovery" ;; f) rec="primary" ;; *) rec="not answering" ;; esac
      printf '  %-9s 127.0.0.1:%-5s %s, %s\n' "${n}" "${port}" "${state}" "${rec}"
    else
      all=0
      printf '  %-9s 127.0.0.1:%-5s stopped\n' "${n}" "${port}"
    fi
  done
  if ((all)) && [[ -f "${DIR}/cluster.env" ]]; then
    exit 0
  fi
  exit 3
}

case "${ACTION}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
esac
