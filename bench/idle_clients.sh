#!/usr/bin/env bash
# Memory per idle client: opens N client connections through pgsplit (libpq, non-blocking, every
# one logged in, then idle) and reports pgsplit's resident memory (VmRSS) before and after, and
# the difference per client. Not a test: a number (issue #5's target is <= 16 KiB per idle client).
#
#   bench/idle_clients.sh [--clients N] [--auth scram-sha-256|trust] [--workers W] [--cluster DIR]
#
# It starts (or reuses) a cluster in DIR, by default build/bench-cluster (scripts/cluster.sh;
# left running for the next run: scripts/cluster.sh stop DIR), starts its own pgsplit, and
# builds bench/idle_clients.c with the system's libpq. It needs N + a few hundred open files in
# pgsplit and in the client; it raises `ulimit -n` as far as it may (run as root for 10,000+).
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
CLIENTS=10000 AUTH=scram-sha-256 WORKERS=0 CLUSTER="${REPO_ROOT}/build/bench-cluster"
while (($# > 0)); do
  case "$1" in
    --clients) CLIENTS="$2"; shift ;;
    --auth) AUTH="$2"; shift ;;
    --workers) WORKERS="$2"; shift ;;
    --cluster) CLUSTER="$2"; shift ;;
    *) echo "usage: bench/idle_clients.sh [--clients N] [--auth scram-sha-256|trust] [--workers W] [--cluster DIR]" >&2; exit 2 ;;
  esac
  shift
done

# Descriptors: every client socket here and in pgsplit, plus server connections and slack.
NEED=$((CLIENTS + 1024))
if (($(ulimit -Hn) < NEED)); then ulimit -Hn "${NEED}" 2>/dev/null || true; fi
ulimit -Sn "$(ulimit -Hn)"
if (($(ulimit -Sn) < NEED)); then
  echo "idle_clients: open file limit $(ulimit -Sn) is below ${NEED}; run as root or lower --clients" >&2
  exit 1
fi

BUILD="${REPO_ROOT}/build"
PGSPLIT="${PGSPLIT_BINARY:-${BUILD}/pgsplit}"  # another build to compare with
[[ -x "${PGSPLIT}" ]] || "${REPO_ROOT}/scripts/build.sh" --no-tests >/dev/null
"${REPO_ROOT}/scripts/cluster.sh" start "${CLUSTER}" >/dev/null
# shellcheck disable=SC1091
source "${CLUSTER}/cluster.env"

WORK="$(mktemp -d /tmp/pgsplit-idle-XXXXXX)"
CLIENT_BIN="${WORK}/idle_clients"
cc -O2 -o "${CLIENT_BIN}" "${SCRIPT_DIR}/idle_clients.c" -I"$(pg_config --includedir)" -lpq

PORT=$((20000 + RANDOM % 10000))
cat >"${WORK}/pgsplit.toml" <<TOML
[server]
listen = "127.0.0.1:${PORT}"
workers = ${WORKERS}
auth_method = "${AUTH}"
max_client_connections = $((CLIENTS + 100))
http_listen = ""
[pool]
mode = "transaction"
[log]
level = "warn"
[[nodes]]
name = "pg0"
host = "127.0.0.1"
port = ${PRIMARY_PORT}
[[nodes]]
name = "pg1"
host = "127.0.0.1"
port = ${REPLICA1_PORT}
[[nodes]]
name = "pg2"
host = "127.0.0.1"
port = ${REPLICA2_PORT}
[[users]]
name = "app"
password = "app"
TOML
"${PGSPLIT}" --config "${WORK}/pgsplit.toml" >"${WORK}/pgsplit.log" 2>&1 &
PGSPLIT_PID=$!
CLIENT_PID=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [[ -n "${CLIENT_PID}" ]]; then kill "${CLIENT_PID}" 2>/dev/null || true; fi
  kill "${PGSPLIT_PID}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "${WORK}"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/${PGSPLIT_PID}/status"; }

CONNINFO="host=127.0.0.1 port=${PORT} dbname=app user=app password=app sslmode=disable"
for _ in $(seq 100); do
  "${PG_BINDIR}/psql" -X -At "${CONNINFO}" -c "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.1
done
# A few queries first, so that the pools, the classifier and the allocator's arenas exist before
# the baseline (each worker's, with several clients).
"${PG_BINDIR}/pgbench" -n -c 8 -j 2 -t 50 -f /dev/stdin "${CONNINFO}" >/dev/null 2>&1 <<<'SELECT 1;' || true
sleep 1
BEFORE=$(rss_kib)

mkfifo "${WORK}/hold"
"${CLIENT_BIN}" "${CONNINFO}" "${CLIENTS}" 200 <"${WORK}/hold" >"${WORK}/clients.out" 2>"${WORK}/clients.err" &
CLIENT_PID=$!
exec 3>"${WORK}/hold"
START=$(date +%s)
until grep -q '^connected' "${WORK}/clients.out" 2>/dev/null; do
  if ! kill -0 "${CLIENT_PID}" 2>/dev/null; then
    echo "idle_clients: the client program failed:" >&2
    cat "${WORK}/clients.err" >&2
    exit 1
  fi
  if (($(date +%s) - START > 600)); then echo "idle_clients: logins did not finish in 10 minutes" >&2; exit 1; fi
  sleep 0.5
done
LOGIN_SECONDS=$(($(date +%s) - START))
read -r _ CONNECTED _ FAILED <"${WORK}/clients.out"
sleep 2  # let the last sessions settle (and idle buffers shrink)
AFTER=$(rss_kib)
# The clients leave; what comes back.
exec 3>&-
wait "${CLIENT_PID}" || true
CLIENT_PID=""
sleep 2
LEFT=$(rss_kib)

PER_CLIENT=$(awk -v b="${BEFORE}" -v a="${AFTER}" -v n="${CONNECTED}" 'BEGIN { if (n > 0) printf "%.1f", (a - b) / n; else print "n/a" }')
echo "pgsplit idle clients ($(nproc) cores, workers=${WORKERS}, auth=${AUTH})"
echo "  clients connected:        ${CONNECTED} (failed: ${FAILED}; logins took ${LOGIN_SECONDS} s)"
echo "  RSS before:               ${BEFORE} KiB"
echo "  RSS with the clients:     ${AFTER} KiB"
echo "  RSS per idle client:      ${PER_CLIENT} KiB (target <= 16)"
echo "  RSS after they left:      ${LEFT} KiB"
