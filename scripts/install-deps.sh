#!/usr/bin/env bash
# Install the Debian 12 packages pgsplit needs to build and test.
#
#   scripts/install-deps.sh [--build-only]
#
#   --build-only   only what building pgsplit needs (the container image's build stage): no
#                  PostgreSQL server, no test tools
#
# Idempotent and fast: only packages that dpkg does not report as installed are installed, and
# `apt-get update` runs only when something is missing. As a non-root user it prints what is missing
# and the command to run, and exits 1.
#
# Note: installing postgresql-15 makes Debian create and start a "main" cluster on port 5432. This
# script leaves it alone; pgsplit's own clusters (scripts/cluster.sh) use other, free ports.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

BUILD_ONLY=0
while (($# > 0)); do
  case "$1" in
    --build-only) BUILD_ONLY=1 ;;
    -h | --help) sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) printf 'install-deps: error: unknown argument: %s\n' "$1" >&2; exit 2 ;;
  esac
  shift
done

PACKAGES=(
  build-essential
  cmake
  ninja-build
  pkg-config
  libboost1.74-dev
  libboost-system1.74-dev
  libssl-dev
  libpq-dev
  libspdlog-dev
  libfmt-dev
  libtomlplusplus-dev
  libcli11-dev
  libgtest-dev
  libgmock-dev
  libpg-query-dev
  libre2-dev
)
# The tests': a real primary + replicas (scripts/cluster.sh), psql/pgbench, and Python's YAML
# parser for the deployment manifests' test.
TEST_PACKAGES=(
  postgresql-15
  postgresql-client-15
  procps
  python3
  python3-yaml
)
if ((BUILD_ONLY == 0)); then
  PACKAGES+=("${TEST_PACKAGES[@]}")
fi

log() { printf 'install-deps: %s\n' "$*" >&2; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian 12 (bookworm) only"

# Print the packages of PACKAGES that are not fully installed, one per line.
missing_packages() {
  local -A installed=()
  local name status
  # One dpkg-query call for all packages; unknown packages only produce a message on stderr.
  while read -r name status; do
    [[ "${status}" == "installed" ]] && installed["${name}"]=1
  done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
  local p
  for p in "${PACKAGES[@]}"; do
    [[ -n "${installed[${p}]:-}" ]] || printf '%s\n' "${p}"
  done
}

mapfile -t MISSING < <(missing_packages)

if ((${#MISSING[@]} == 0)); then
  log "all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

APT_CMD="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${MISSING[*]}"

if [[ "$(id -u)" -ne 0 ]]; then
  log "missing packages: ${MISSING[*]}"
  log "install them as root with:"
  printf '  sudo sh -c '\''%s'\''\n' "${APT_CMD}" >&2
  exit 1
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install manually: ${MISSING[*]}"

log "installing: ${MISSING[*]}"
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
apt-get "${APT_OPTS[@]}" update -q
apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends "${MISSING[@]}"

mapfile -t STILL_MISSING < <(missing_packages)
if ((${#STILL_MISSING[@]} > 0)); then
  die "still not installed after apt-get install: ${STILL_MISSING[*]}"
fi
((BUILD_ONLY == 1)) || [[ -x /usr/lib/postgresql/15/bin/initdb ]] || die "/usr/lib/postgresql/15/bin/initdb is missing after installing postgresql-15"
log "done (repo: ${REPO_ROOT})"
