"""The quality stage's shortcuts judge every value as the full checks do: the exponent test of money
values runs only on rows holding an 'e' or 'E' somewhere, codes of a known list skip their format's
regular expression (only when every known code matches that format), and a provider code among the
used providers rows skips its format's (those rows passed the same format check)."""

from __future__ import annotations

import pytest

from pingyi.data.checks import table_checks
from pingyi.data.contract import TABLES
from pingyi.data.quality import run_quality
from pingyi.spec.models import DataSettings
from test_extract import YEAR, open_test_bundle, settlement, valid_tables, write_bundle
from test_quality import planted_tables

# row number in settlements.csv (1-based, after the 12 valid rows) -> the row's changes
EXTRA = {
    13: {"psn_no": "Pe13", "setl_id": "SE13"},  # 'e' and 'E' outside the money values: a valid row
    14: {"fulamt_ownpay_amt": "5E1"},
    15: {"setl_id": "Se15", "medfee_sumamt": "1e3"},
    16: {"med_type": "28"},  # listed in data.yaml (below): classified
    17: {"med_type": "2801"},  # well formed, not classified: flagged, kept
    18: {"med_type": "A1"},  # listed in data.yaml below, but not a med_type's format
    19: {"fixmedins_code": "H99999900001"},  # well formed, no such provider
    20: {"fixmedins_code": "HX"},  # malformed and no such provider
}
SETTINGS = DataSettings(inpatient_med_types=["21", "28", "A1"])


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shortcuts")
    tables = valid_tables()
    tables["settlements"] += [settlement(i, **EXTRA[i]) for i in sorted(EXTRA)]
    directory = write_bundle(tmp / "bundle", tables)
    bundle = open_test_bundle(directory, tmp)
    run_quality(bundle, SETTINGS, YEAR)
    yield bundle
    bundle.close()


def _rejected(bundle) -> dict[int, tuple[str, str, str]]:
    rows = bundle.con.execute(
        """SELECT "row", "column", reason_code, also FROM rejected WHERE "table" = 'settlements'"""
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_rows_are_judged_as_the_full_checks_judge_them(checked):
    assert _rejected(checked) == {
        14: ("fulamt_ownpay_amt", "bad_type", ""),
        15: ("medfee_sumamt", "bad_type", ""),
        18: ("med_type", "bad_format", ""),
        19: ("fixmedins_code", "unknown_provider", ""),
        20: ("fixmedins_code", "bad_format", "unknown_provider:fixmedins_code"),
    }


def test_a_code_outside_the_known_list_is_flagged_and_kept(checked):
    flagged = checked.con.execute(
        """SELECT fixmedins_code, failed FROM quality
           WHERE "table" = 'settlements' AND reason_code = 'unclassified_code' AND failed > 0"""
    ).fetchall()
    assert [n for _, n in flagged] == [1]
    kept = checked.con.execute("SELECT _row, med_type FROM clean_settlements WHERE _row IN (13, 16, 17)").fetchall()
    assert sorted(kept) == [(13, "21"), (16, "28"), (17, "2801")]


def _format_sql(settings: DataSettings, column: str) -> str:
    checks = table_checks(TABLES["settlements"], settings, YEAR)
    return next(ch.sql for ch in checks if ch.name == f"{column}: format")


def test_the_known_list_shortcut_needs_every_known_code_to_match_the_format():
    assert " IN (" in _format_sql(DataSettings(inpatient_med_types=["21", "28"]), "med_type")
    assert " IN (" not in _format_sql(SETTINGS, "med_type")  # 'A1' does not match ^[0-9]{2,6}$


def _masks(directory, tmp, monkeypatch=None) -> dict[str, list[tuple]]:
    from test_extract import open_test_bundle as open_bundle_for_test

    bundle = open_bundle_for_test(directory, tmp)
    try:
        run_quality(bundle, SETTINGS, YEAR)
        out = {}
        for table in TABLES:
            names = [r[0] for r in bundle.con.execute(f"DESCRIBE qc_{table}").fetchall() if r[0].startswith("_a")]
            if names:
                out[table] = bundle.con.execute(
                    f"SELECT _row, {', '.join(names)} FROM qc_{table} ORDER BY _row"
                ).fetchall()
    finally:
        bundle.close()
    return out


def test_each_checks_stated_condition_is_where_it_applies(tmp_path, monkeypatch):
    """The applied masks built from `Check.applies` equal those built by testing every check's own
    result for NULL, row by row, on the bundle of every reason and edge case."""
    from dataclasses import replace

    import pingyi.data.quality as quality
    from test_quality_same import tricky_settlements

    tables, _ = planted_tables()
    tables["settlements"] += tricky_settlements() + [settlement(i, **EXTRA[i]) for i in sorted(EXTRA)]
    directory = write_bundle(tmp_path / "bundle", tables)
    stated = _masks(directory, tmp_path / "a")
    assert sum(len(rows) for rows in stated.values()) > 100
    original = quality.table_checks
    monkeypatch.setattr(
        quality, "table_checks", lambda *a, **k: [replace(ch, applies=None) for ch in original(*a, **k)]
    )
    assert _masks(directory, tmp_path / "b") == stated
