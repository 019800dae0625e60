#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only those that are missing, so a
# second run is quiet and fast. Needs root (or sudo) only when something is missing.
# `setup.sh --only PKG...` does the same for other packages (fuzz/setup.sh: clang for make fuzz).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libssl-dev openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  curl python3 python3-boto3
  libcurl4-openssl-dev python3-matplotlib
  nginx golang-go tinyproxy time
  python3-venv python3-pytest
)
if [[ "${1:-}" == "--only" ]]; then
  shift
  packages=("$@")
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
