#!/bin/sh
# `pip install ./python` in a fresh virtual environment (offline: the package builds with its own
# standard-library backend), then the package's pytest example from outside the source tree, so
# the installed package and its pytest11 fixture are what run. The venv sees Debian's boto3 and
# pytest (--system-site-packages). Usage: python_helper_venv.sh TUNEDHTTP PYTHON_SOURCE_DIR
set -eu
program=$1
source=$2
if ! /usr/bin/python3 -c 'import ensurepip, pytest' 2>/dev/null; then
  echo "python3-venv or python3-pytest missing (scripts/setup.sh installs them)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install --no-index --quiet --disable-pip-version-check "$source"
cd "$work"
TUNEDHTTP_PROGRAM=$program "$work/venv/bin/python" -B -m pytest -q -p no:cacheprovider \
  "$source/tests"
