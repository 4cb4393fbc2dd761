#!/usr/bin/env bash
# README command 1: install everything, then run the main job on the shipped example province:
# validate the project, print the weight tree, score every provider and verify the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/pingyi validate
.venv/bin/pingyi weights
.venv/bin/pingyi score --data examples/province --out out/results
.venv/bin/pingyi report --results out/results --format pdf,xlsx,html --out out/reports
echo "report cards: out/reports/cards/*.pdf, committee report: out/reports/committee.pdf, workbook: out/reports/pingyi-report.xlsx, HTML: out/reports/html/index.html"
