#!/usr/bin/env bash
# Installs what `make fuzz` needs beyond the normal build (clang and libFuzzer's runtime), only
# when missing, so `make test` never needs clang.
set -euo pipefail
exec "$(dirname "$0")/../scripts/setup.sh" --only clang libclang-rt-14-dev
