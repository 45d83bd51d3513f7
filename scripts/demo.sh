#!/usr/bin/env bash
# Try pgsplit in one command (as root on a fresh Debian 12, or as any user once the packages are in):
# installs the packages, builds, starts a primary + two streaming replicas under <repo>/.cluster/demo,
# writes <repo>/.cluster/demo/pgsplit.toml and runs pgsplit in the foreground on 127.0.0.1:6432.
# Ctrl-C (or SIGTERM) stops pgsplit and the demo cluster. Run it again at will: every step is idempotent.
#
# Environment: PGSPLIT_DEMO_PORT (default 6432), PGSPLIT_DEMO_KEEP_CLUSTER=1 (leave the cluster running
# on exit; `scripts/cluster.sh stop .cluster/demo` stops it later).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

LISTEN_HOST=127.0.0.1
LISTEN_PORT="${PGSPLIT_DEMO_PORT:-6432}"
CLUSTER_DIR="${REPO_ROOT}/.cluster/demo"
CONFIG="${CLUSTER_DIR}/pgsplit.toml"
PGSPLIT_BIN="${REPO_ROOT}/build/pgsplit"
readonly LISTEN_HOST LISTEN_PORT CLUSTER_DIR CONFIG PGSPLIT_BIN

log() { printf 'demo: %s\n' "$*" >&2; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

[[ "${LISTEN_PORT}" =~ ^[0-9]+$ ]] || die "PGSPLIT_DEMO_PORT must be a port number, not '${LISTEN_PORT}'"

# True when something listens on LISTEN_PORT (any local address, IPv4 or IPv6).
listen_port_taken() {
  local hex f
  hex="$(printf '%04X' "${LISTEN_PORT}")"
  for f in /proc/net/tcp /proc/net/tcp6; do
    [[ -r "${f}" ]] || continue
    if awk -v port="${hex}" 'NR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == port) found = 1 } END { exit !found }' "${f}"; then
      return 0
    fi
  done
  return 1
}

check_listen_port() {
  listen_port_taken || return 0
  local who=""
  if command -v ss >/dev/null 2>&1; then
    who="$(ss -Hltnp "sport = :${LISTEN_PORT}" 2>/dev/null | grep -o 'users:.*' | head -n1 || true)"
  fi
  die "port ${LISTEN_PORT} is already in use${who:+ (${who})}: stop whatever listens there (an earlier demo? a PgBouncer?) or run with PGSPLIT_DEMO_PORT=<another port>"
}

check_listen_port

"${SCRIPT_DIR}/install-deps.sh"
"${SCRIPT_DIR}/build.sh"
[[ -x "${PGSPLIT_BIN}" ]] || die "${PGSPLIT_BIN} was not built"

# From here on, leave nothing running behind us.
PGSPLIT_PID=""
CLEANED_UP=0
# shellcheck disable=SC2317 # invoked by trap
cleanup() {
  local rc=$?
  ((CLEANED_UP)) && return
  CLEANED_UP=1
  trap - INT TERM
  if [[ -n "${PGSPLIT_PID}" ]] && kill -0 "${PGSPLIT_PID}" 2>/dev/null; then
    log "stopping pgsplit (pid ${PGSPLIT_PID})"
    kill -TERM "${PGSPLIT_PID}" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "${PGSPLIT_PID}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${PGSPLIT_PID}" 2>/dev/null; then
      log "pgsplit did not exit within 10 s; killing it"
      kill -KILL "${PGSPLIT_PID}" 2>/dev/null || true
    fi
    wait "${PGSPLIT_PID}" 2>/dev/null || true
  fi
  if [[ "${PGSPLIT_DEMO_KEEP_CLUSTER:-0}" == 1 ]]; then
    log "leaving the cluster running (stop it with: scripts/cluster.sh stop ${CLUSTER_DIR})"
  else
    log "stopping the demo cluster"
    "${SCRIPT_DIR}/cluster.sh" stop "${CLUSTER_DIR}" || true
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${SCRIPT_DIR}/cluster.sh" start "${CLUSTER_DIR}"

# cluster.env is our own KEY=value file; read the ports from it.
PRIMARY_PORT="" REPLICA1_PORT="" REPLICA2_PORT=""
while IFS='=' read -r key value; do
  case "${key}" in
    PRIMARY_PORT) PRIMARY_PORT="${value}" ;;
    REPLICA1_PORT) REPLICA1_PORT="${value}" ;;
    REPLICA2_PORT) REPLICA2_PORT="${value}" ;;
  esac
done <"${CLUSTER_DIR}/cluster.env"
[[ -n "${PRIMARY_PORT}" && -n "${REPLICA1_PORT}" && -n "${REPLICA2_PORT}" ]] ||
  die "${CLUSTER_DIR}/cluster.env lacks the node ports"

cat >"${CONFIG}.tmp" <<EOF
# pgsplit demo configuration, written by scripts/demo.sh (rewritten on every run).
# pg0 is the primary, pg1 and pg2 stream from it; with role = "auto" pgsplit finds out which is which.

[server]
listen = "${LISTEN_HOST}:${LISTEN_PORT}"

[pool]
mode = "transaction"

[[nodes]]
name = "pg0"
host = "127.0.0.1"
port = ${PRIMARY_PORT}
role = "auto"

[[nodes]]
name = "pg1"
host = "127.0.0.1"
port = ${REPLICA1_PORT}
role = "auto"

[[nodes]]
name = "pg2"
host = "127.0.0.1"
port = ${REPLICA2_PORT}
role = "auto"

[[users]]
name = "app"
password = "app"
EOF
mv -f -- "${CONFIG}.tmp" "${CONFIG}"

# The cluster start may have taken a moment: check the port again right before binding it.
check_listen_port

DSN="postgresql://app:app@${LISTEN_HOST}:${LISTEN_PORT}/app"
cat <<EOF

================================================================================================
 pgsplit demo
   nodes:   pg0 127.0.0.1:${PRIMARY_PORT} (primary)   pg1 127.0.0.1:${REPLICA1_PORT} (replica)   pg2 127.0.0.1:${REPLICA2_PORT} (replica)
   config:  ${CONFIG}
   connect: ${DSN}

 In another terminal:
   psql "${DSN}" -c "create table if not exists demo (id serial primary key, note text)"
   psql "${DSN}" -c "insert into demo (note) values ('hello') returning id"
   psql "${DSN}" -c "select count(*) from demo"
   # which node served a read (a replica's port and t) / a write-ish transaction (the primary, f):
   psql "${DSN}" -c "select inet_server_port(), pg_is_in_recovery()"
   psql "${DSN}" -c "/* pgsplit:primary */ select inet_server_port(), pg_is_in_recovery()"
   # or straight to a node, bypassing pgsplit:
   psql "postgresql://app:app@127.0.0.1:${PRIMARY_PORT}/app" -c "select inet_server_port(), pg_is_in_recovery()"

 Ctrl-C stops pgsplit and the demo cluster.
================================================================================================

EOF

log "starting ${PGSPLIT_BIN} --config ${CONFIG}"
# In the background so that our INT/TERM traps run at once (bash defers traps while a foreground
# child runs); `wait` keeps the script in the foreground until pgsplit exits.
"${PGSPLIT_BIN}" --config "${CONFIG}" &
PGSPLIT_PID=$!
rc=0
wait "${PGSPLIT_PID}" || rc=$?
PGSPLIT_PID=""
log "pgsplit exited with status ${rc}"
exit "${rc}"
