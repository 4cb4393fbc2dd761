"""The run: the stages in order (pipeline.run), the result files, the manifest and verification.

pipeline.py  run(): validate -> data -> compute -> score, a frozen RunResult
results.py   results.json built from a RunResult
schema.py    the results contract: results.json as versioned pydantic models
outputs.py   scores.csv, indicators.csv, adjustments.csv, quality.csv, rejected.csv, results.json
manifest.py  manifest.json: versions, parameters and the SHA-256 of every input and output
evaluate.py  evaluate_to(): run, write the outputs and the manifest
verify.py    `pingyi verify`: the outputs against the manifest and a fresh re-run
summary.py   what `pingyi score` prints
"""
