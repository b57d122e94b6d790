#!/usr/bin/env bash
# The capacity benchmark in one command: installs what it needs (as
# root), builds certscan in Release, then runs bench/run.py with the
# arguments given (see bench/run.py --help).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

need=(python3-msgpack python3-cryptography zstd openssl util-linux)
if [ "${BENCH_GO:-1}" = 1 ]; then
  need+=(golang-go)
fi
missing=()
for pkg in "${need[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "run as root, or first: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD_DIR=$root/build-bench "$root/scripts/build.sh" -DCERTSCAN_TESTS=OFF
exec /usr/bin/python3 "$root/bench/run.py" "$@"
