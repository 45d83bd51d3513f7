#!/usr/bin/env bash
# Install the packages, build, and run every test (unit and integration) with ctest.
#
#   scripts/test.sh [--sanitize] [--werror]
#
#   --sanitize   build and test in build-asan/ (AddressSanitizer + UBSan)
#   --werror     warnings are errors
#
# The integration tests' PostgreSQL cluster (primary + 2 replicas on free loopback ports) is started
# and stopped by ctest fixtures (scripts/cluster.sh, under <builddir>/test-cluster). ctest's summary is
# the last thing printed, and the script exits with ctest's status. Idempotent.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

die() { printf 'test: error: %s\n' "$*" >&2; exit 1; }

BUILD_ARGS=()
BUILD_DIR="${REPO_ROOT}/build"
while (($# > 0)); do
  case "$1" in
    --sanitize) BUILD_ARGS+=(--sanitize); BUILD_DIR="${REPO_ROOT}/build-asan" ;;
    --werror) BUILD_ARGS+=(--werror) ;;
    -h | --help) sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (usage: scripts/test.sh [--sanitize] [--werror])" ;;
  esac
  shift
done
readonly BUILD_DIR

"${SCRIPT_DIR}/install-deps.sh"
"${SCRIPT_DIR}/build.sh" "${BUILD_ARGS[@]}"

if [[ "${BUILD_ARGS[*]}" == *--sanitize* ]]; then
  # Fail on the first sanitizer report; LeakSanitizer stays on.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fi

# ctest stops the cluster through its cleanup fixture; if we are interrupted it may not get there.
# shellcheck disable=SC2317 # invoked by trap
on_interrupt() {
  "${SCRIPT_DIR}/cluster.sh" stop "${BUILD_DIR}/test-cluster" >/dev/null 2>&1 || true
  exit 130
}
trap on_interrupt INT TERM

rc=0
ctest --test-dir "${BUILD_DIR}" --output-on-failure -j2 --timeout 600 || rc=$?
exit "${rc}"
