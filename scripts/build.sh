#!/usr/bin/env bash
# Configure (CMake + Ninja) and build pgsplit.
#
#   scripts/build.sh [--sanitize] [--no-werror] [--no-tests]
#
#   (default)    build dir build/, warnings are errors (-DPGSPLIT_WERROR=ON), as in CI
#   --sanitize   build dir build-asan/, -DPGSPLIT_SANITIZE=ON (AddressSanitizer + UBSan)
#   --no-werror  warnings stay warnings (a newer compiler than Debian 12's may warn more)
#   --no-tests   only pgsplit itself (-DPGSPLIT_TESTS=OFF; the container image's build)
#
# Idempotent: configures only when the build dir is not configured yet (or was configured with other
# options or another generator), then builds with -j$(nproc).
# CMAKE_BUILD_TYPE from the environment is honoured (default: the project's RelWithDebInfo).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

log() { printf 'build: %s\n' "$*" >&2; }
die() { printf 'build: error: %s\n' "$*" >&2; exit 1; }
usage() {
  sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

SANITIZE=OFF
WERROR=ON
TESTS=ON
while (($# > 0)); do
  case "$1" in
    --sanitize) SANITIZE=ON ;;
    --werror) WERROR=ON ;;
    --no-werror) WERROR=OFF ;;
    --no-tests) TESTS=OFF ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done

command -v cmake >/dev/null 2>&1 || die "cmake not found (run scripts/install-deps.sh)"
command -v ninja >/dev/null 2>&1 || die "ninja not found (run scripts/install-deps.sh)"

if [[ "${SANITIZE}" == ON ]]; then
  BUILD_DIR="${REPO_ROOT}/build-asan"
else
  BUILD_DIR="${REPO_ROOT}/build"
fi
CACHE="${BUILD_DIR}/CMakeCache.txt"

# Value of a CMake cache entry (empty when absent).
cache_value() {
  sed -n "s/^$1:[A-Z]*=//p" "${CACHE}" 2>/dev/null | head -n1
}

need_configure=0
if [[ ! -f "${CACHE}" || ! -f "${BUILD_DIR}/build.ninja" ]]; then
  need_configure=1
elif [[ "$(cache_value CMAKE_GENERATOR)" != "Ninja" ]]; then
  log "${BUILD_DIR} was configured with generator '$(cache_value CMAKE_GENERATOR)'; reconfiguring with Ninja"
  rm -rf "${CACHE}" "${BUILD_DIR}/CMakeFiles"
  need_configure=1
elif [[ "$(cache_value PGSPLIT_SANITIZE)" != "${SANITIZE}" || "$(cache_value PGSPLIT_WERROR)" != "${WERROR}" ||
  "$(cache_value PGSPLIT_TESTS)" != "${TESTS}" ]]; then
  need_configure=1
elif [[ -n "${CMAKE_BUILD_TYPE:-}" && "$(cache_value CMAKE_BUILD_TYPE)" != "${CMAKE_BUILD_TYPE}" ]]; then
  need_configure=1
fi

if ((need_configure)); then
  cmake_args=(-S "${REPO_ROOT}" -B "${BUILD_DIR}" -G Ninja
    -DPGSPLIT_SANITIZE="${SANITIZE}" -DPGSPLIT_WERROR="${WERROR}" -DPGSPLIT_TESTS="${TESTS}")
  if [[ -n "${CMAKE_BUILD_TYPE:-}" ]]; then
    cmake_args+=(-DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
  fi
  log "configuring ${BUILD_DIR} (sanitize=${SANITIZE}, werror=${WERROR})"
  cmake "${cmake_args[@]}"
fi

jobs="$(nproc 2>/dev/null || echo 2)"
log "building ${BUILD_DIR} with -j${jobs}"
cmake --build "${BUILD_DIR}" -j "${jobs}"
log "ok: ${BUILD_DIR}"
