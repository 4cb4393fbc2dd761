#!/usr/bin/env bash
# Install everything pingyi needs on a fresh Debian machine with python3, pip and apt:
# system packages for the PDF renderer (Pango, HarfBuzz subsetting, a CJK font), poppler for
# PDF checks, then a virtual environment in .venv with pingyi and its Python dependencies.
# --test adds the test tools, chromium, and the Spark engine (pyspark and a headless Java 17 runtime) so
# that tests/test_spark.py runs. Idempotent: packages already present are not reinstalled.
# Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils"
if [ "${1:-}" = "--test" ]; then
  packages="$packages chromium"
  # pyspark 4 runs on Java 17 or 21; a machine that has one already keeps it
  if ! command -v java >/dev/null 2>&1; then packages="$packages openjdk-17-jre-headless"; fi
fi
extra=""
if [ "${1:-}" = "--test" ]; then extra="[test,spark]"; fi

missing=""
for p in $packages; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing system packages:$missing"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    # Debian's system python needs python3-venv for virtual environments
    rm -rf .venv
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".${extra}"
