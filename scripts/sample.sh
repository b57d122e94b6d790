#!/usr/bin/env bash
# Builds certscan and scans the bundled sample fleet at the evaluation
# time its ground truth was computed for. Reports land in sample-report/
# (or the folder given as $1).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sample=$root/datasets/sample
out=${1:-$root/sample-report}

BUILD_DIR=$root/build "$root/scripts/build.sh"

at=$(sed -n 's/.*"evaluated_at": *"\([^"]*\)".*/\1/p' \
     "$sample/expected.json" | head -n 1)

status=0
"$root/build/scanner/certscan" scan \
  --rules "$sample/rules.json" --signers "$sample/signers.json" \
  --at "$at" --out "$out" "$sample" || status=$?

echo
echo "Reports: $out/summary.json devices.csv posture.ndjson report.html"
exit "$status"
