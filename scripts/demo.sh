#!/usr/bin/env bash
# README command 1: install everything, then run the main job on the shipped example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/pingyi validate
.venv/bin/pingyi weights
