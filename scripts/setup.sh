#!/usr/bin/env bash
# Installs what certscan needs to build and test on Debian 12, or, when
# not run as root, prints the exact apt-get line to run.
set -euo pipefail

packages=(build-essential cmake pkg-config libssl-dev libuv1-dev
          libzstd-dev libmsgpack-dev libjansson-dev libcmocka-dev zstd
          openssl python3 python3-cryptography)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "certscan needs these Debian packages; run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
