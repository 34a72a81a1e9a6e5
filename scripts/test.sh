#!/usr/bin/env bash
# Runs passform's whole test suite on a fresh machine: installs what the tests need (Debian's
# `age` for interoperability tests, the official Alibaba Cloud Python SDKs in a virtual
# environment for the emulator's tests), checks formatting and lints, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-tools.sh
export PASSFORM_PYTHON="$PWD/target/python-sdks/bin/python"

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo nextest run --locked --no-fail-fast
