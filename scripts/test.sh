#!/usr/bin/env bash
# README command 2: install everything (with test extras) and run the whole test suite: the tests, and
# ruff, mypy and the import contract (tests/test_code_health.py), on every CPU (pytest-xdist).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/python -m pytest -q -n auto --dist loadscope "$@"
