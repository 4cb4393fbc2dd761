"""Run-level guards: what `pingyi score` checks before money moves, beyond each row and each file.

Each guard that fires is a `Guard` with a stable code and an action:

- **stop**: the run ends with exit 2 and the guard's message; nothing is written. Fewer than 10 % of
  the settlements are dated in the evaluation year; a table's share of rejected rows is above
  `policy.guards.max_rejected_share`; a required table is empty; no provider could be graded.
- **warn**: the run goes on and the warning is printed in the summary, recorded in results.json
  (`guards`) and shown on the committee report's first page: an optional table is empty; a provider of
  the master table has no settlement in the year (it is scored as missing data); a provider's
  prepayment cannot be sized, so its adjustment is 0.

`--strict` turns every warning into a stop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pingyi.data.contract import TABLES
from pingyi.data.quality import QualityResult
from pingyi.errors import PingyiError
from pingyi.spec.project import Project

Action = Literal["stop", "warn"]

# the codes, their default action and what they mean (docs/user-guide.md lists them)
GUARDS: dict[str, tuple[Action, str]] = {
    "year_window": ("stop", "fewer than 10 % of the settlements are dated in the evaluation year"),
    "rejected_share": ("stop", "a table's share of rejected rows is above policy.guards.max_rejected_share"),
    "empty_table": ("stop", "a required table (providers, settlements) has no rows"),
    "none_graded": ("stop", "no provider could be graded"),
    "optional_table_empty": ("warn", "an optional table is present but has no rows"),
    "provider_without_rows": ("warn", "a provider of the master table has no settlement in the year"),
    "prepayment_unsized": ("warn", "a provider's adjustment is 0 because its prepayment cannot be sized"),
}

MIN_YEAR_SHARE = 0.10  # of the dated settlements that must fall in the evaluation year
LIST_AT_MOST = 10  # codes named in a message; the rest are counted


@dataclass(frozen=True)
class Guard:
    code: str
    action: Action
    message: str  # English: names the table or file, what was found and what was expected
    message_zh: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "action": self.action, "message": self.message, "message_zh": self.message_zh}


def _guard(code: str, message: str, message_zh: str) -> Guard:
    return Guard(code, GUARDS[code][0], message, message_zh)


def _listed(codes: Sequence[str]) -> str:
    shown = ", ".join(codes[:LIST_AT_MOST])
    return shown + (f" and {len(codes) - LIST_AT_MOST} more" if len(codes) > LIST_AT_MOST else "")


def data_guards(project: Project, year: int, quality: QualityResult, months: int = 12) -> list[Guard]:
    """The bundle as a whole: empty tables, rejected shares, the evaluation year. `months`: of the
    evaluation year the data covers (a year-to-date run: the share of its settlements expected scales
    with them, so a January run is not taken for the wrong year)."""
    out: list[Guard] = []
    dated = quality.years.get("settlements", {})
    in_year, total = dated.get(year, 0), sum(dated.values())
    share = MIN_YEAR_SHARE * months / 12
    if total and in_year < share * total:
        # a bundle holds the evaluation year and the one before (about half each); a stray row dated in
        # the year does not make it the year's data
        found = ", ".join(f"{y}: {n:,}" for y, n in sorted(dated.items()))
        out.append(
            _guard(
                "year_window",
                f"{quality.counts['settlements'].file}: {in_year:,} of {total:,} settlements are dated in the "
                f"evaluation year {year}; found rows per year {found}; expected the evaluation year's settlements "
                f"(at least {share:.0%} of the rows): check --year or evaluation_year in policy.yaml",
                f"{quality.counts['settlements'].file}：{total:,} 条结算中仅 {in_year:,} 条属于评价年度 {year}"
                f"（各年行数 {found}）；请核对评价年度",
            )
        )
    limit = project.policy.guards.max_rejected_share
    for name, counts in quality.counts.items():
        spec = TABLES[name]
        if counts.read == 0 and (spec.required or counts.file):
            what = f"{counts.file or name}: the {name} table has no rows"
            if spec.required:
                out.append(
                    _guard(
                        "empty_table",
                        f"{what}; expected the evaluation year's {name} (a header alone scores nobody)",
                        f"{counts.file or name}：{spec.label}表无数据行；应提供评价年度数据",
                    )
                )
            else:
                out.append(
                    _guard(
                        "optional_table_empty",
                        f"{what}; the indicators it feeds are scored as missing or insufficient data",
                        f"{counts.file or name}：{spec.label}表无数据行；相关指标按缺失或数据不足处理",
                    )
                )
            continue
        if counts.read and counts.rejected / counts.read > limit:
            reasons = [t for t in quality.top if t.table == name and t.severity == "reject"]
            why = f"; most often {reasons[0].reason_code} ({reasons[0].failed:,} rows)" if reasons else ""
            share = counts.rejected / counts.read
            out.append(
                _guard(
                    "rejected_share",
                    f"{counts.file}: {counts.rejected:,} of {counts.read:,} {name} rows rejected ({share:.1%}){why}; "
                    f"expected at most {limit:.0%} (policy.guards.max_rejected_share); see rejected.csv "
                    "(`pingyi quality` lists every reason)",
                    f"{counts.file}：{spec.label}表 {counts.read:,} 行中 {counts.rejected:,} 行被拒收（{share:.1%}），"
                    f"超过允许的 {limit:.0%}",
                )
            )
    return out


def provider_guards(codes: Iterable[str], present: Mapping[str, frozenset[str]]) -> list[Guard]:
    """Providers of the master table with no settlement this year (scored as missing mandatory data)."""
    without = sorted(c for c in codes if "settlements" not in present.get(c, frozenset()))
    if not without:
        return []
    return [
        _guard(
            "provider_without_rows",
            f"{len(without)} provider(s) of the providers table have no settlement in the evaluation year: "
            f"{_listed(without)}; they are scored as missing data (failure to report)",
            f"{len(without)} 家机构在评价年度无结算记录：{_listed(without)}；按数据缺失处理",
        )
    ]


def result_guards(project: Project, grades: Mapping[str, str], unsized: Sequence[str]) -> list[Guard]:
    """After scoring: nobody graded; adjustments that could not be sized."""
    out: list[Guard] = []
    if grades and all(g == project.policy.insufficient_grade for g in grades.values()):
        out.append(
            _guard(
                "none_graded",
                f"none of the {len(grades)} providers could be graded (all {project.policy.insufficient_grade}); "
                "expected at least one graded provider: check the data's year and tables (see quality.csv)",
                f"{len(grades)} 家机构均{project.policy.insufficient_grade}，无一可评级",
            )
        )
    if unsized:
        out.append(
            _guard(
                "prepayment_unsized",
                f"{len(unsized)} provider(s) graded for a prepayment change have no prepayment and no prior-year "
                f"fund payments to size it: {_listed(list(unsized))}; their adjustment is 0 元; expected a "
                "prepayment column in the providers table or last year's settlements",
                f"{len(unsized)} 家机构应调整预付金但无预付金数据且无上年度基金支付：{_listed(list(unsized))}；调整额记为0",
            )
        )
    return out


def enforce(guards: Sequence[Guard], strict: bool) -> None:
    """Stop on any `stop` guard (with --strict: on any guard), naming every one that fired."""
    stops = [g for g in guards if g.action == "stop" or strict]
    if stops:
        detail = " | ".join(f"[{g.code}] {g.message}" for g in stops)
        how = " (--strict stops on warnings too)" if strict and any(g.action == "warn" for g in stops) else ""
        raise PingyiError(f"the run was stopped before any result was written{how}: {detail}")
