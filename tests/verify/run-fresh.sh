#!/bin/sh
# run-fresh.sh - makes a fresh fixture set with make-fixtures.sh in a
# temporary folder and runs the verify tests on it, so that the script
# is proven to make a set the tests accept, not only the one checked in.
#
# Usage: run-fresh.sh TEST_BINARY
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM

sh "$here/make-fixtures.sh" "$dir" >/dev/null
CERTSCAN_VERIFY_FIXTURES=$dir "$1"
