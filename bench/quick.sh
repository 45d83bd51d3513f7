#!/usr/bin/env bash
# Quick side-by-side: pgbench straight to the primary vs through pgsplit (reads split over two
# streaming replicas), interleaved round by round, on this machine. Reports TPS, the ratio, and
# pgsplit's CPU time per transaction (from /proc/<pid>/stat). Not a test: numbers, not verdicts.
#
#   bench/quick.sh [--rounds N] [--seconds S] [--clients C]
#
# It starts its own cluster under build/bench-cluster (scripts/cluster.sh) and its own pgsplit,
# and stops both when done. Issue #7 grows this into bench/run.sh with PgBouncer and Pgpool-II.
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
ROUNDS=3 SECONDS_PER_RUN=10 CLIENTS=16
while (($# > 0)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --seconds) SECONDS_PER_RUN="$2"; shift ;;
    --clients) CLIENTS="$2"; shift ;;
    *) echo "usage: bench/quick.sh [--rounds N] [--seconds S] [--clients C]" >&2; exit 2 ;;
  esac
  shift
done

"${REPO_ROOT}/scripts/install-deps.sh"
"${REPO_ROOT}/scripts/build.sh" >/dev/null
CLUSTER="${REPO_ROOT}/build/bench-cluster"
"${REPO_ROOT}/scripts/cluster.sh" start "${CLUSTER}" >/dev/null
# shellcheck disable=SC1091
source "${CLUSTER}/cluster.env"
PGBENCH="${PG_BINDIR}/pgbench"
export PGPASSWORD=app

PORT=$((20000 + RANDOM % 10000))
CONFIG="$(mktemp /tmp/pgsplit-bench-XXXXXX.toml)"
cat >"${CONFIG}" <<TOML
[server]
listen = "127.0.0.1:${PORT}"
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
"${REPO_ROOT}/build/pgsplit" --config "${CONFIG}" >/tmp/pgsplit-bench.log 2>&1 &
PGSPLIT_PID=$!
cleanup() {
  kill "${PGSPLIT_PID}" 2>/dev/null || true
  wait "${PGSPLIT_PID}" 2>/dev/null || true
  rm -f "${CONFIG}"
  "${REPO_ROOT}/scripts/cluster.sh" stop "${CLUSTER}" >/dev/null 2>&1 || true
}
trap cleanup EXIT
sleep 1

"${PGBENCH}" -i -s 10 -q -h 127.0.0.1 -p "${PRIMARY_PORT}" -U app app >/dev/null 2>&1
sleep 2  # let the replicas replay the load

cpu_ticks() { awk '{print $14 + $15}' "/proc/${PGSPLIT_PID}/stat"; }
HZ="$(getconf CLK_TCK)"

declare -A TPS_SUM CPU_SUM TX_SUM
for ((r = 1; r <= ROUNDS; r++)); do
  for target in direct pgsplit; do
    port="${PRIMARY_PORT}"
    [[ "${target}" == pgsplit ]] && port="${PORT}"
    before="$(cpu_ticks)"
    out="$("${PGBENCH}" -S -n -c "${CLIENTS}" -j 2 -T "${SECONDS_PER_RUN}" -h 127.0.0.1 -p "${port}" -U app app 2>&1)"
    after="$(cpu_ticks)"
    tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"${out}")"
    tx="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"${out}")"
    printf 'round %d %-8s tps=%s\n' "${r}" "${target}" "${tps}"
    TPS_SUM[${target}]="$(awk -v a="${TPS_SUM[${target}]:-0}" -v b="${tps}" 'BEGIN{print a+b}')"
    TX_SUM[${target}]=$((${TX_SUM[${target}]:-0} + tx))
    CPU_SUM[${target}]=$((${CPU_SUM[${target}]:-0} + after - before))
  done
done

direct="$(awk -v s="${TPS_SUM[direct]}" -v n="${ROUNDS}" 'BEGIN{printf "%.0f", s/n}')"
split="$(awk -v s="${TPS_SUM[pgsplit]}" -v n="${ROUNDS}" 'BEGIN{printf "%.0f", s/n}')"
us="$(awk -v t="${CPU_SUM[pgsplit]}" -v hz="${HZ}" -v n="${TX_SUM[pgsplit]}" 'BEGIN{printf "%.1f", t/hz*1e6/n}')"
echo
echo "| pgbench -S, ${CLIENTS} clients, ${SECONDS_PER_RUN} s x ${ROUNDS} rounds | TPS (mean) | vs direct | pgsplit CPU µs/txn |"
echo "|---|---|---|---|"
echo "| direct to primary | ${direct} | 1.00 | - |"
echo "| through pgsplit (reads on 2 replicas) | ${split} | $(awk -v a="${split}" -v b="${direct}" 'BEGIN{printf "%.2f", a/b}') | ${us} |"
echo
echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//')"
