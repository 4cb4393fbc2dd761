"""Compare two results folders (or two ledger runs): per provider what changed in values, lights,
scores, grade, rank, adjustment and designation, with the money moved.

`pingyi compare RUN_A RUN_B [--ledger L] [--json] [--xlsx FILE] [--lang zh|en]`. A run is a results
folder written by `pingyi score`, or, with `--ledger`, a run id of the ledger (digits only; its
results_dir is read from the runs table). Each folder is refused, naming the file, unless every output
its manifest lists still has the SHA-256 the manifest records (the check `pingyi ledger verify` makes
of recorded runs: pingyi.ledger.records.output_problems), and a ledger run is refused when its folder's
manifest is not the one the ledger recorded. The evaluation is not re-run (that is `pingyi verify`).

What is compared (B against A; providers matched by fixmedins_code):

- per provider: total_score, grade, rank (the rank results.json records: competition ranking 1, 2, 2, 4
  on unrounded totals, the one the cards and the committee report show), light, eligibility, veto;
  every field of its `adjustment` object generically (rate, amount, new_prepayment, prepayment,
  prepayment_source, rule, designation first, any other field after, sorted; an object-valued field
  such as a credit sub-record one level down, as `adjustment.credit.rate`), so fields added to the
  adjustment later show without a change here; and per indicator value, light, score, status and
  corrected (the correction after review). Only changed fields are listed.
- providers in one run only (added: only in B; removed: only in A); indicators in one catalogue only;
  catalogue entries of common indicators that differ (rule, parameters, lights, weights; the wording
  fields name_zh, name_en, meaning and interpretation are ignored); results.json parameters and grade
  bands; the names of project and data files whose hashes differ in the two manifests.
- money: per run the penalties (sum of negative amounts, as a positive number), rewards and net, the
  same sums as adjustments.csv; the change of net; over the providers in both runs the sum of the
  per-provider differences in amount (`amount_difference`) and of their absolute values
  (`amount_moved`); the amounts of providers in one run only; counts of providers whose grade,
  designation, rank or amount changed.

Runs of different years, or of different catalogues, are compared all the same (a committee comparing
two years), each with a note first in every output (`notes`): kinds `years`, `catalogue`,
`definitions`, `schema` and `same_run`. The main use is the same year: a preview against the final
run, or a policy edit tried on the same data (e.g. the 不合格 step rate -15 % instead of -10 %).

Outputs: a table of the changes and the money on stdout ("no change" when no provider, indicator or
definition differs; exit 0 either way); `--json` the object below; `--xlsx FILE` a workbook with a
汇总 sheet (runs, notes, money, counts) and a 变化 sheet (one row per parameter, definition and provider
change, in the order of `parameters`, `indicators.definitions`, `changes`), Chinese unless `--lang en`.

The --json shape (`format` "pingyi-compare/1"; money as decimal strings, yuan):

    {
      "format": "pingyi-compare/1",
      "identical": bool,                    # no change, no added/removed provider or indicator, no definition change
      "a": SIDE, "b": SIDE,                 # SIDE: label, results_dir, run_id (int|null), run_kind (ledger kind|null),
                                            #       year, stage (null|preview|final|recheck), date, manifest_sha256, providers
      "notes": [{"kind": str, "text": str, "text_zh": str}],
      "inputs": {"project_files": FILES, "data_files": FILES},   # FILES: {"changed": [name], "added": [..], "removed": [..]}
      "parameters": [CHANGE],               # results.json parameters and "grades" (the bands)
      "indicators": {"added": [code], "removed": [code], "definitions": [CHANGE]},
      "providers": {"added": [ONLY], "removed": [ONLY], "changed": [code]},
                                            # ONLY: code, name, grade, total_score, amount
      "changes": [CHANGE],                  # by provider code, then provider fields, adjustment, indicators
      "totals": {
        "a": {"penalties": str, "rewards": str, "net": str}, "b": {...},
        "net_change": str, "amount_difference": str, "amount_moved": str,
        "added_amount": str, "removed_amount": str,
        "providers_compared": int, "providers_changed": int, "grade_changed": int,
        "designation_changed": int, "rank_changed": int, "amount_changed": int
      }
    }

CHANGE is {"provider": code ("" for a run's parameter or a definition), "name": provider name,
"indicator": code or null, "field": e.g. "grade", "adjustment.amount", "adjustment.credit.rate",
"value", "light", "rule_params.zero_at", "a": value in A, "b": value in B, "delta": b - a (a number
for numbers, a decimal string for money and rates, null otherwise)}. A field absent on one side is
null there; an indicator of both catalogues that one provider's list lacks is field "indicator" with
"present"/"absent" (an indicator of one catalogue only is listed in `indicators` alone).

diff.py      reading and checking the runs, the comparison (a frozen `Comparison`)
workbook.py  the 汇总 and 变化 sheets
"""

from pingyi.compare.diff import Change, Comparison, compare_runs
from pingyi.compare.workbook import workbook_bytes

__all__ = ["Change", "Comparison", "compare_runs", "workbook_bytes"]
