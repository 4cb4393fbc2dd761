"""The Methods page (docs/methods.md) cannot go stale: its generated tables (random index, the shipped AHP
matrices and their screening, lights and funnels, the expert bootstrap) are what the code and the YAML
give today, and a stale table is caught."""

import pytest

from pingyi.tools.docsgen import DOCS, METHODS_END, METHODS_START, methods_page, methods_tables

HINT = "docs/methods.md is stale: run `python -m pingyi.tools.docsgen` and commit the result"


@pytest.fixture(scope="module")
def tables() -> dict[str, str]:
    return methods_tables()


def test_methods_tables_are_current(tables):
    page = (DOCS / "methods.md").read_text(encoding="utf-8")
    assert page == methods_page(page, tables), HINT
    for name in tables:
        assert METHODS_START.format(name=name) in page and METHODS_END.format(name=name) in page


def test_a_changed_number_is_stale(tables):
    page = (DOCS / "methods.md").read_text(encoding="utf-8")
    edited = page.replace("| RI(n) | 0.00 | 0.00 | 0.58 |", "| RI(n) | 0.00 | 0.00 | 0.52 |")
    assert edited != page and methods_page(edited, tables) == page


def test_the_tables_say_what_the_project_says(tables):
    # five experts judge the primaries, three each dimension, none screened (every own CR < 0.10)
    assert "| root (primaries) | 8 | 5 |" in tables["AHP matrices"]
    assert tables["AHP matrices"].count("| none |") == 9
    assert (
        "| D2.02 低风险组病例死亡率 | percent | proportion (asin sqrt p) | tau2 | 0.1 | beyond_95 |"
        in tables["lights and funnels"]
    )
    # the 5th and 95th percentiles of a dimension's resampled weight bracket its AHP weight
    for line in tables["expert bootstrap"].splitlines()[4:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        ahp, lo, hi = float(cells[2]), float(cells[3]), float(cells[5])
        assert lo <= ahp <= hi, line
