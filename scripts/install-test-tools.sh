#!/usr/bin/env bash
# Installs the tools passform's tests use beyond the Rust toolchain, once per machine:
# Debian's reference `age` CLI, `openssl` (it makes a private certificate authority for a TLS
# test), and a Python virtual environment under target/ holding the official Alibaba Cloud SDKs
# that drive the emulator. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
command -v age >/dev/null 2>&1 || missing+=(age)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv=target/python-sdks
requirements=tests/python/requirements.txt
stamp="$venv/.requirements"
if [ -f "$requirements" ] && ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
  echo "installing the Alibaba Cloud Python SDKs into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi
