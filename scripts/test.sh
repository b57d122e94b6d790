#!/usr/bin/env bash
# Builds certscan and runs every test: the Release build, then the same
# tests under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

BUILD_DIR=$root/build "$root/scripts/build.sh"
(cd "$root/build" && ctest --output-on-failure -j "$(nproc)")

BUILD_DIR=$root/build-sanitize BUILD_TYPE=Debug "$root/scripts/build.sh" \
  -DCERTSCAN_ASAN=ON -DCERTSCAN_UBSAN=ON
(cd "$root/build-sanitize" && ctest --output-on-failure -j "$(nproc)")
