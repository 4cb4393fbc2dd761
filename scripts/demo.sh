#!/usr/bin/env bash
# README command 1: install everything, then run the main job on the shipped example province:
# validate the project, print the weight tree, score every provider and verify the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/pingyi validate
.venv/bin/pingyi weights
.venv/bin/pingyi score --data examples/province --out out/results
