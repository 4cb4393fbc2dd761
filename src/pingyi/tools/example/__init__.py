"""A deterministic synthetic data bundle for the three pilot provinces (`pingyi example`).

The source documents pilot the evaluation in 浙江 (east), 河南 (central) and 四川 (west), three
prefectures each [001 §5.2]. This package writes a bundle for them in exactly the table/column
contract of docs/data-bundle.md, realistic enough that every indicator has something to say:

- providers of every level (三级 / 二级 / 一级及基层) with real GB/T 2260 division codes, codes
  `H` + division + sequence, and a prepayment of about one month of pooled-fund spending (missing
  for a few, so the fallback is exercised);
- two years of settlements (prior year and evaluation year), one settlement list (4101) per
  inpatient stay, fee lines aggregated by category per encounter, smart-audit flags, reported and
  survey values for every report/survey indicator in the catalogue, expert scores for the
  qualitative ones, and a DRG reference table;
- the optional columns the measures read: direct settlement (手工/零星 reimbursements of 异地 and
  门诊慢特病 care, per provider around the D5.01/D5.05 baselines), fee-line quantities, national
  catalogue codes and their validity (D8.03), and 集采 generic-name flags whose quantities give D3.03;
- planted defects of every kind the quality stage rejects, listed in `_planted.json`.

Everything is drawn from `numpy.random.Generator(PCG64(...))` seeded from `seed`; there are no
wall-clock times and files are written in a fixed order, so the same arguments give byte-identical
files. Indicator codes, sources, units, directions and baselines are read from the project's YAML
at generation time, so the example follows the catalogue when it changes.

Scale: arrays are generated per block of providers (about 600,000 settlements each); strings are
built with Arrow compute kernels and each table is written on its own thread while the next block
is generated, so `--providers 5000 --rows 10000000` takes about two minutes and about 2 GB.

Modules, in the order a run uses them: `generate` (the entry point) reads the project
(`catalogue`), draws `providers`, their behaviour (`params`) and targets (`rates`) and the person
pools (`people`), then generates the settlements one `block` of providers at a time (`stays`,
`visits`, `fee_lines`, `direct_settlement`), turns each block into Arrow `tables` and hands them
to the `writers`; `audit`, `planted` and `side_tables` add the smaller tables. Fixed data lives in
`contract` (tables and columns), `geography`, `drg` and `fee_codes`; `sampling`, `payments` and
`arrow_columns` are shared helpers, `context` the state the steps share.
"""

from pingyi.tools.example.contract import FORMATS, LEVELS, REASONS, TABLE_COLUMNS
from pingyi.tools.example.generate import generate_example
from pingyi.tools.example.summary import ExampleSummary

__all__ = ["ExampleSummary", "generate_example", "FORMATS", "TABLE_COLUMNS", "REASONS", "LEVELS"]
