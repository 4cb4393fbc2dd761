"""In-year monitoring (预警): year-to-date indicators and lights from the months available, indicators
heading for red, warnings with a deadline for correction recorded in the ledger, notices.

`pingyi monitor --data DIR --through YYYY-MM` runs the evaluation pipeline itself (pingyi.run.pipeline,
same catalogue, baselines, rules and scorer) with a `Window`:

- **Months** (window.py): the evaluation year's rows dated after the month are taken out of the raw
  tables before the quality stage (settlements and settlement lists by setl_time, fee items by
  fee_ocur_time, audit flags by flag_time); the prior year stays whole. So the run's numbers are those
  of `pingyi score` on a bundle holding only those months. `--through` outside the evaluation year, or a
  month without settlements, is refused with the months the data holds.
- **Annualised where the manual's formula is an annual total** (annualise.py): a formula that is a ratio
  of quantities of the same months (degree 0 in the year's sums and counts: rates, shares, means,
  indices) is compared with its annual baseline as it is; any other (an annual total, an amount per year,
  a total against last year's whole total such as D1.03 统筹基金支出增长率) is evaluated again with the
  year's sums and counts × 12 / months. Volume floors still see the real counts. Yearly reported, survey
  and expert values are never scaled.
- **Heading for red** (flags.py): already red, or worse than the baseline by more than
  `policy.cycle.heading_for_red` (default 0.20) as a share of it in the indicator's bad direction;
  exactly the threshold is not over it. Grey and no-data indicators are never flagged (no_data.csv).
- **Warnings** (flags.py, run.py): with a ledger, one open warning per flagged (provider, indicator) and
  year, due `warning_deadline_days` after `--date`, never duplicated while active; a later run resolves
  active warnings it scores and no longer flags and escalates open ones past their deadline still
  flagged; the run (RunKind.MONITOR, record_run) and every warning change in one transaction.
- **Outputs** (run.py, notice.py): the year-to-date run's result files, warnings.csv (UTF-8 with BOM),
  no_data.csv, notices/<code>.html and .pdf (预警通知书, notice.html in the report package's sandboxed
  jinja environment, the card's font and weasyprint renderer), manifest.json (kind `pingyi monitor`).
"""
