"""An independent recomputation of every indicator, from the raw bundle files and the manual's words.

This is what an assessor does with the 指标解释手册 (docs/indicator-manual.md, from the `manual` entries of
indicators/*.yaml) and the bundle contract (docs/data-bundle.md): read the files, drop the rows the
contract says are not used, and count what each entry's formula_text, inclusions and exclusions say.
It uses pandas and the standard library only: none of pingyi's views, measures, formulas or SQL. Sums are
taken in exact fractions, so a disagreement with pingyi is a disagreement about the words, never about
floating-point order.

Rows the quality stage rejects: the bundles of the oracle test come from `pingyi example`, whose only bad
rows are the planted ones listed in `_planted.json`, each with its documented reason code. A row planted
with a `reject` reason (docs/data-bundle.md, Data quality) is dropped; a `flag` reason keeps the row
(late_upload, unmatched_settlement, …); a `reject (flag)` reason in an optional column keeps the row and
treats that value as missing. Refund rows are not bad rows: each entry says how they count.

Where the words leave a choice open, the comment at that place names the sentence that decided it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
F = Fraction
ZERO = F(0)

# the reason codes whose severity is `flag` (the row is used): docs/data-bundle.md, Data quality
FLAG_REASONS = {"unclassified_code", "unmatched_settlement", "handled_before_flag", "late_upload"}


# --------------------------------------------------------------------------- reading the bundle


def _contract_columns(doc: Path = ROOT / "docs" / "data-bundle.md") -> dict[str, dict[str, bool]]:
    """table -> column -> required, from the tables of docs/data-bundle.md."""
    out: dict[str, dict[str, bool]] = {}
    table = None
    for line in doc.read_text(encoding="utf-8").splitlines():
        m = re.match(r"## (\w+) ", line)
        if m:
            table = m.group(1)
            out[table] = {}
            continue
        if line.startswith("## "):
            table = None
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if table and len(cells) >= 3 and cells[0] not in ("column", "---") and not cells[0].startswith("-"):
            out[table][cells[0]] = cells[2] == "yes"
    return out


def _read_csv(path: Path) -> list[dict[str, str | None]]:
    """Values are text; blanks around a value are not part of it; an empty value is missing."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    blanks = " \t\r\n\u3000\u00a0"
    return [{k.strip().lower(): ((v or "").strip(blanks) or None) for k, v in r.items()} for r in rows]


def read_bundle(bundle: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table's used rows (planted bad rows handled as the contract says)."""
    planted = json.loads((bundle / "_planted.json").read_text(encoding="utf-8"))
    columns = _contract_columns()
    drop: set[tuple[str, int]] = set()
    blank: dict[tuple[str, int], set[str]] = defaultdict(set)
    for p in planted["rows"]:
        reason, table, row = p["reason"], p["table"], int(p["row"])
        if reason in FLAG_REASONS:
            continue
        if columns.get(table, {}).get(p["column"], True):
            drop.add((table, row))
        else:  # a bad value in an optional column: the row is kept, the value is missing
            blank[(table, row)].add(p["column"])
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in columns:
        path = bundle / f"{name}.csv"
        rows = _read_csv(path) if path.is_file() else []
        kept = []
        for i, r in enumerate(rows, start=1):
            if (name, i) in drop:
                continue
            for col in blank.get((name, i), ()):
                r[col] = None
            kept.append(r)
        tables[name] = kept
    return tables


def ts(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise ValueError(f"unexpected time {text!r}")


def money(text: str | None) -> Fraction:
    return F(text) if text is not None else ZERO


# --------------------------------------------------------------------------- the project's settings


@dataclass(frozen=True)
class Project:
    data: Mapping[str, Any]  # data.yaml
    region_of_province: Mapping[str, str]
    indicators: Mapping[str, Mapping[str, Any]]  # code -> its YAML entry

    @property
    def inpatient(self) -> set[str]:
        return set(self.data["inpatient_med_types"])

    @property
    def refund(self) -> set[str]:
        return set(self.data["refund_flag_values"])


def read_project(root: Path = ROOT) -> Project:
    data = yaml.safe_load((root / "data.yaml").read_text(encoding="utf-8"))
    regions = yaml.safe_load((root / "baselines" / "regions.yaml").read_text(encoding="utf-8"))
    scheme = regions["default_scheme"]
    for path in sorted((root / "baselines").glob("[0-9]*.yaml")):
        scheme = yaml.safe_load(path.read_text(encoding="utf-8")).get("region_scheme", scheme)
    indicators = {}
    for path in sorted((root / "indicators").glob("D*.yaml")):
        for ind in yaml.safe_load(path.read_text(encoding="utf-8"))["indicators"]:
            indicators[ind["code"]] = ind
    return Project(data, {p["code"]: p["regions"][scheme] for p in regions["provinces"]}, indicators)


# --------------------------------------------------------------------------- the indicators


@dataclass(frozen=True)
class Expected:
    value: Fraction | None  # None: no value (a zero denominator, or no data at all)
    volume: Fraction | None  # the indicator's minimum-volume count (None: no minimum declared)
    minimum: float | None


def ratio(num: Fraction | None, den: Fraction | None) -> Fraction | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


def growth(cur: Fraction | None, prior: Fraction | None) -> Fraction | None:
    """本年度 ÷ 上年度 − 1 (none when either year has no value or last year's is 0)."""
    r = ratio(cur, prior)
    return None if r is None else r - 1


class Oracle:
    def __init__(self, bundle: Path, year: int, project: Project | None = None):
        self.p = project or read_project()
        self.year = year
        t = read_bundle(bundle)
        self.providers = [r["fixmedins_code"] for r in t["providers"]]
        known = set(self.providers)
        window = (dt.datetime(year - 1, 1, 1), dt.datetime(year + 1, 1, 1))

        def in_window(r, col):  # outside_window and unknown_provider rows are not used (contract)
            return r["fixmedins_code"] in known and window[0] <= ts(r[col]) < window[1]

        self.setl = [r for r in t["settlements"] if in_window(r, "setl_time")]
        self.lists = [r for r in t["setl_lists"] if in_window(r, "setl_time")]
        self.fees = [r for r in t["fee_items"] if in_window(r, "fee_ocur_time")]
        self.flags = [r for r in t["audit_flags"] if in_window(r, "flag_time")]
        self.reported = t["reported"]
        self.experts = t["expert_scores"]
        self.drg = {r["drg_code"]: r for r in t["drg_groups"]}
        for r in self.setl:
            r["_year"] = ts(r["setl_time"]).year
            r["direct_setl_flag"] = r.get("direct_setl_flag") or "1"  # empty = 1 (contract)
        for rows, col in ((self.lists, "setl_time"), (self.fees, "fee_ocur_time"), (self.flags, "flag_time")):
            for r in rows:
                r["_year"] = ts(r[col]).year
        self._by: dict[tuple[str, str, int], list[dict]] = defaultdict(list)  # (table, provider, year) -> rows
        for name, rows in (("settlements", self.setl), ("setl_lists", self.lists), ("fee_items", self.fees),
                           ("audit_flags", self.flags)):  # fmt: skip
            for r in rows:
                self._by[(name, r["fixmedins_code"], r["_year"])].append(r)
        self._stays()

    # ---- settlements
    def _s(self, code: str, year: int, *, direct=True, refunds=True, med_types=None, extra=None):
        for r in self._by[("settlements", code, year)]:
            if direct and r["direct_setl_flag"] != "1":  # 手工（零星）报销记录 excluded
                continue
            if not refunds and r["refd_setl_flag"] in self.p.refund:
                continue
            if med_types is not None and r["med_type"] not in med_types:
                continue
            if extra is not None and not extra(r):
                continue
            yield r

    def _count(self, rows: Iterable[dict], key: str) -> Fraction:
        return F(len({r[key] for r in rows if r.get(key) is not None}))

    def inpatient_stays(self, code, year):
        """住院人次按就诊ID（mdtrt_id）去重；退费冲销记录不计人次 (D1.01 inclusions/exclusions)."""
        return self._count(self._s(code, year, refunds=False, med_types=self.p.inpatient), "mdtrt_id")

    def inpatient_sum(self, code, year, column):
        """退费及冲销记录按负数冲减费用."""
        return sum((money(r[column]) for r in self._s(code, year, med_types=self.p.inpatient)), ZERO)

    def offsite(self, r) -> bool:
        """参保地医保区划与本机构所在统筹区不同: prefecture-level pooling (first 4 digits), XX99xx a
        province-level pooling code, the municipalities pool province-wide (data-bundle.md, offsite_flag)."""
        ins, own = r["insuplc_admdvs"], r["fixmedins_code"][1:7]
        if ins[:2] != own[:2]:
            return True
        if ins[:2] in ("11", "12", "31", "50") or ins[2:4] == "99":
            return False
        return ins[:4] != own[:4]

    # ---- settlement lists
    def _stays(self) -> None:
        """Per stay: its cost (Σ medfee_sumamt of its settlements), the same-year regional DRG means, the
        BJ-DRG low-risk groups (over both years), readmissions and manual claims."""
        cost: dict[str, Fraction] = defaultdict(F)
        direct: dict[str, bool] = {}
        for r in self.setl:
            cost[r["mdtrt_id"]] += money(r["medfee_sumamt"])
            direct[r["mdtrt_id"]] = direct.get(r["mdtrt_id"], False) or r["direct_setl_flag"] == "1"
        region = {c: self.p.region_of_province.get(c[1:3], "") for c in self.providers}
        groups: dict[tuple, list] = defaultdict(list)
        mort: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        by_person: dict[tuple, list] = defaultdict(list)
        for s in self.lists:
            s["_cost"] = cost.get(s["mdtrt_id"])
            s["_manual_claim"] = s["mdtrt_id"] in direct and not direct[s["mdtrt_id"]]
            s["_region"] = region[s["fixmedins_code"]]
            s["_days"] = int(s["act_ipt_days"])
            if s["drg_code"] is not None:
                if s["_cost"] is not None:
                    groups[(s["_region"], s["_year"], s["drg_code"])].append(s)
                m = mort[(s["_region"], s["drg_code"])]
                m[0] += 1
                m[1] += s["dscg_way"] == "5"
            by_person[(s["fixmedins_code"], s["psn_no"])].append(s)
        self.region_mean = {
            k: (sum((s["_cost"] for s in v), ZERO) / len(v), F(sum(s["_days"] for s in v), len(v)))
            for k, v in groups.items()
        }
        self.low_risk = self._low_risk(mort)
        for stays in by_person.values():
            for s in stays:
                out = ts(s["dscg_time"])
                # D2.03: 同一人员出院后31日内再次入住本机构 — another list of the person whose admission is
                # not before this discharge, at most 31 days after it by date
                s["_readmitted"] = any(
                    o is not s and ts(o["adm_time"]) >= out and (ts(o["adm_time"]).date() - out.date()).days <= 31
                    for o in stays
                )

    def _low_risk(self, mort) -> dict[tuple, bool]:
        """D2.02: per region and DRG, mortality m over both years; z = standardised ln m over the region's
        DRGs with deaths (sample standard deviation); z < −1 is low risk; a DRG with no death is low risk
        (data-bundle.md, low_risk_drg). One DRG with deaths, or all alike: z = 0."""
        out = {}
        by_region: dict[str, dict[str, float]] = defaultdict(dict)
        for (reg, drg), (cases, deaths) in mort.items():
            if deaths == 0:
                out[(reg, drg)] = True
            else:
                by_region[reg][drg] = math.log(deaths / cases)
        for reg, logs in by_region.items():
            xs = list(logs.values())
            k = len(xs)
            mean = sum(xs) / k
            var = sum((x - mean) ** 2 for x in xs) / (k - 1) if k > 1 else 0.0
            for drg, x in logs.items():
                z = 0.0 if k < 2 or var <= 1e-24 else (x - mean) / math.sqrt(var)
                out[(reg, drg)] = z < -1
        return out

    def _l(self, code, year, extra=None):
        return [s for s in self._by[("setl_lists", code, year)] if extra is None or extra(s)]

    def _grouped(self, s) -> bool:
        """已上传清单且成功入组（drg_code非空）；权重缺失的病组、区域平均费用或住院日缺失或为0的病例除外."""
        if s["drg_code"] is None or s["_cost"] is None:
            return False
        g = self.drg.get(s["drg_code"])
        if g is None or F(g["weight"]) <= 0:
            return False
        cost, los = self.region_mean[(s["_region"], s["_year"], s["drg_code"])]
        return cost > 0 and los > 0

    def _alive(self, s) -> bool:
        return s["dscg_way"] != "5"

    # ---- the 35 indicators
    def expected(self, code: str, provider: str) -> Expected:
        ind = self.p.indicators[code]
        value, volume = getattr(self, "i_" + code.replace(".", "_"))(provider, self.year)
        vol = ind.get("volume")
        return Expected(value, volume if vol else None, vol["minimum"] if vol else None)

    def _missing(self, code, provider, year, *tables) -> bool:
        """A provider with no rows at all in a table the indicator reads has no data from it (pingyi's
        measure table: an absent table is missing data, not zero events) unless the indicator's
        `on_empty` says `zero`."""
        if self.p.indicators[code].get("on_empty") == "zero":
            return False
        return any(not self._by.get((t, provider, year)) for t in tables)

    def _growth_of(self, per_year, code, provider, year, tables=("settlements",)):
        cur = None if self._missing(code, provider, year, *tables) else per_year(year)
        pri = None if self._missing(code, provider, year - 1, *tables) else per_year(year - 1)
        return growth(cur, pri)

    def i_D1_01(self, c, y):
        """raw: (本年度住院医疗费用总额 ÷ 本年度住院人次) ÷ (上年度 …) − 1."""
        v = self._growth_of(
            lambda yy: ratio(self.inpatient_sum(c, yy, "medfee_sumamt"), self.inpatient_stays(c, yy)), "D1.01", c, y
        )
        return v, self.inpatient_stays(c, y)

    def _outpatient(self, c, yy):
        cost = sum((money(r["medfee_sumamt"]) for r in self._s(c, yy, med_types={"11", "13"})), ZERO)
        visits = self._count(self._s(c, yy, refunds=False, med_types={"11", "13"}), "mdtrt_id")
        return cost, visits

    def i_D1_02(self, c, y):
        v = self._growth_of(lambda yy: ratio(*self._outpatient(c, yy)), "D1.02", c, y)
        return v, self._outpatient(c, y)[1]

    def _direct_settlements(self, c, y):
        return self._count(self._s(c, y, refunds=False), "setl_id")

    def i_D1_03(self, c, y):
        """本机构全部直接结算记录的统筹基金支出（hifp_pay），退费冲销按负数冲减."""
        v = self._growth_of(lambda yy: sum((money(r["hifp_pay"]) for r in self._s(c, yy)), ZERO), "D1.03", c, y)
        return v, self._direct_settlements(c, y)

    def _index(self, c, y, term):
        if self._missing("D1.04", c, y, "setl_lists"):
            return None, None
        g = self._l(c, y, self._grouped)
        return ratio(sum((term(s) for s in g), ZERO), F(len(g))), F(len(g))

    def i_D1_04(self, c, y):
        """Σ（各病例住院医疗费用 ÷ 所在DRG病组区域平均费用）÷ 入组病例数."""
        return self._index(c, y, lambda s: s["_cost"] / self.region_mean[(s["_region"], s["_year"], s["drg_code"])][0])

    def i_D1_05(self, c, y):
        return self._index(c, y, lambda s: s["_days"] / self.region_mean[(s["_region"], s["_year"], s["drg_code"])][1])

    def i_D2_01(self, c, y):
        """DRG总权重 ÷ 入组病例数."""
        return self._index(c, y, lambda s: F(self.drg[s["drg_code"]]["weight"]))

    def _rate(self, code, c, y, den, num, table="setl_lists"):
        if self._missing(code, c, y, table):
            return None, None
        d = self._l(c, y, den)
        return ratio(F(sum(1 for s in d if num(s))), F(len(d))), F(len(d))

    def i_D2_02(self, c, y):
        low = lambda s: s["drg_code"] is not None and self.low_risk[(s["_region"], s["drg_code"])]  # noqa: E731
        return self._rate("D2.02", c, y, low, lambda s: s["dscg_way"] == "5")

    def i_D2_03(self, c, y):
        """出院后31日内非计划再住院的出院人次 ÷ 存活出院人次; 有计划（days_rinp_flag_31 = 2）不计."""
        return self._rate("D2.03", c, y, self._alive, lambda s: s["_readmitted"] and s["days_rinp_flag_31"] != "2")

    def _surgical(self, s):
        return s["max_oprn_lv"] is not None and 1 <= int(s["max_oprn_lv"]) <= 4

    def i_D2_04(self, c, y):
        return self._rate("D2.04", c, y, self._surgical, lambda s: s["oprn_cmpl_flag"] == "1")

    def i_D2_05(self, c, y):
        return self._rate("D2.05", c, y, self._surgical, lambda s: int(s["max_oprn_lv"]) == 4)

    def _fee_share(self, code, c, y, num):
        """费用按收费项目类别（med_chrgitm）汇总；退费明细按负数冲减."""
        if self._missing(code, c, y, "fee_items"):
            return None, None
        lines = self._by[("fee_items", c, y)]
        total = sum((money(r["amt"]) for r in lines), ZERO)
        return ratio(sum((money(r["amt"]) for r in lines if num(r)), ZERO), total), None

    def i_D3_01(self, c, y):
        return self._fee_share("D3.01", c, y, lambda r: r["med_chrgitm"] in ("09", "11"))

    def i_D3_02(self, c, y):
        return self._fee_share("D3.02", c, y, lambda r: r["med_chrgitm"] == "08")

    def i_D3_03(self, c, y):
        """集采中选药品用量 ÷ 同通用名药品总用量（西药和中成药明细行，退药按负数冲减）."""
        if self._missing("D3.03", c, y, "fee_items"):
            return None, None
        drugs = [r for r in self._by[("fee_items", c, y)] if r["med_chrgitm"] in ("09", "11") and r["cnt"] is not None]
        num = sum((F(r["cnt"]) for r in drugs if r["vbp_flag"] == "1"), ZERO)
        den = sum((F(r["cnt"]) for r in drugs if r["vbp_generic_flag"] == "1"), ZERO)
        return ratio(num, den), None

    def i_D3_04(self, c, y):
        v = (
            None
            if self._missing("D3.04", c, y, "settlements")
            else ratio(self.inpatient_sum(c, y, "fulamt_ownpay_amt"), self.inpatient_sum(c, y, "medfee_sumamt"))
        )
        return v, self.inpatient_stays(c, y)

    def i_D3_05(self, c, y):
        v = (
            None
            if self._missing("D3.05", c, y, "settlements")
            else ratio(self.inpatient_sum(c, y, "psn_part_amt"), self.inpatient_sum(c, y, "medfee_sumamt"))
        )
        return v, self.inpatient_stays(c, y)

    def _flags(self, c, y):
        return self._by[("audit_flags", c, y)]

    def i_D4_01(self, c, y):
        """确认违规（confirmed=1）的疑点金额 ÷ 本机构直接结算记录的基金支付总额."""
        if self._missing("D4.01", c, y, "audit_flags", "settlements"):
            return None, None
        num = sum((money(r["amount"]) for r in self._flags(c, y) if r["confirmed"] == "1"), ZERO)
        return ratio(num, sum((money(r["fund_pay_sumamt"]) for r in self._s(c, y)), ZERO)), None

    def i_D4_02(self, c, y):
        """规则类型为“分解住院”的疑点按结算ID去重 ÷ 本机构直接结算的住院人次."""
        stays = self.inpatient_stays(c, y)
        if self._missing("D4.02", c, y, "audit_flags", "settlements"):
            return None, stays
        split = {r["setl_id"] for r in self._flags(c, y) if r["rule_type"] == "分解住院" and r["setl_id"]}
        return ratio(F(len(split)), stays), stays

    def i_D4_03(self, c, y):
        """推送后15日内（handled_time − flag_time，按日期）完成处理的疑点数 ÷ 本年度推送疑点总数."""
        if self._missing("D4.03", c, y, "audit_flags"):
            return None, None
        flags = self._flags(c, y)
        limit = self.p.data["audit_response_days"]
        timely = [
            r
            for r in flags
            if r["handled_time"] and (ts(r["handled_time"]).date() - ts(r["flag_time"]).date()).days <= limit
        ]
        return ratio(F(len(timely)), F(len(flags))), F(len(flags))

    def _reported(self, code, c, y):
        vals = [
            F(r["value"])
            for r in self.reported
            if r["fixmedins_code"] == c and int(r["year"]) == y and r["indicator"] == code
        ]
        return (vals[0] if vals else None), None

    i_D4_04 = lambda self, c, y: self._reported("D4.04", c, y)  # noqa: E731
    i_D5_03 = lambda self, c, y: self._reported("D5.03", c, y)  # noqa: E731

    def i_D6_01(self, c, y):
        """有效问卷少于100份的机构记为样本不足（不计分）: the volume is the row's valid questionnaires."""
        rows = [
            r for r in self.reported if r["fixmedins_code"] == c and int(r["year"]) == y and r["indicator"] == "D6.01"
        ]
        if not rows:
            return None, None
        n = rows[0].get("denominator")
        return F(rows[0]["value"]), (F(n) if n not in (None, "") else None)

    i_D6_02 = lambda self, c, y: self._reported("D6.02", c, y)  # noqa: E731
    i_D6_03 = lambda self, c, y: self._reported("D6.03", c, y)  # noqa: E731
    i_D7_02 = lambda self, c, y: self._reported("D7.02", c, y)  # noqa: E731
    i_D8_04 = lambda self, c, y: self._reported("D8.04", c, y)  # noqa: E731

    def i_D5_01(self, c, y):
        """异地参保人直接结算人次 ÷（直接结算 + 手工报销人次）; 退费冲销记录除外."""
        visits = self._count(self._s(c, y, direct=False, refunds=False, extra=self.offsite), "mdtrt_id")
        direct = self._count(self._s(c, y, refunds=False, extra=self.offsite), "mdtrt_id")
        return ratio(direct, visits), visits

    def i_D5_02(self, c, y):
        """Σ（结算日期 − 出院日期，负值按0计）÷ 病例数; 手工（零星）报销的住院除外."""
        if self._missing("D5.02", c, y, "setl_lists"):
            return None, None
        stays = self._l(c, y, lambda s: s["dscg_time"] and s["setl_time"] and not s["_manual_claim"])
        days = sum(max((ts(s["setl_time"]).date() - ts(s["dscg_time"]).date()).days, 0) for s in stays)
        return ratio(F(days), F(len(stays))), F(len(stays))

    def i_D5_04(self, c, y):
        """mdtrt_cert_type=01 的直接结算笔数 ÷ 直接结算笔数（按setl_id，退费冲销除外）."""
        ecert = set(self.p.data["e_credential_cert_types"])
        num = self._count(self._s(c, y, refunds=False, extra=lambda r: r.get("mdtrt_cert_type") in ecert), "setl_id")
        den = self._direct_settlements(c, y)
        return ratio(num, den), den

    def i_D5_05(self, c, y):
        chronic = set(self.p.data["chronic_med_types"])
        visits = self._count(self._s(c, y, direct=False, refunds=False, med_types=chronic), "mdtrt_id")
        direct = self._count(self._s(c, y, refunds=False, med_types=chronic), "mdtrt_id")
        return ratio(direct, visits), visits

    def i_D7_01(self, c, y):
        """成功入组病例数 ÷ 可入组病例数（住院天数不超过60天的清单）."""
        limit = self.p.data["max_stay_days"]
        return self._rate("D7.01", c, y, lambda s: s["_days"] <= limit, lambda s: s["drg_code"] is not None)

    def i_D7_03(self, c, y):
        return self._rate("D7.03", c, y, self._alive, lambda s: s["dscg_way"] == "3")

    def i_D7_04(self, c, y):
        """专家评分的平均值，去掉一个最高分和一个最低分；少于3人时取全部评分的平均值."""
        scores = sorted(
            F(r["score"])
            for r in self.experts
            if r["fixmedins_code"] == c and int(r["year"]) == y and r["indicator"] == "D7.04"
        )
        if not scores:
            return None, None
        kept = scores[1:-1] if len(scores) >= 3 else scores
        return sum(kept, ZERO) / len(kept), None

    def i_D8_01(self, c, y):
        """分母中结算清单在结算后N日内上传的住院人次 ÷ 本机构直接结算的住院人次; N = data.yaml
        upload_deadline_days, “N日内” = dcla_time ≤ setl_time + N × 24 h."""
        deadline = dt.timedelta(days=self.p.data["upload_deadline_days"])
        lists = {(s["fixmedins_code"], s["mdtrt_id"]): s for s in self.lists}
        stays = {r["mdtrt_id"] for r in self._s(c, y, refunds=False, med_types=self.p.inpatient)}

        def timely(m):
            s = lists.get((c, m))
            return s is not None and ts(s["dcla_time"]) <= ts(s["setl_time"]) + deadline

        return ratio(F(sum(1 for m in stays if timely(m))), F(len(stays))), F(len(stays))

    def i_D8_02(self, c, y):
        return self._rate("D8.02", c, y, lambda s: True, lambda s: s["qc_rslt"] == "1")

    def i_D8_03(self, c, y):
        """有效国家医保编码的费用明细行数 ÷ 费用明细总行数; 冲销明细行不计（冲销结算的明细行）."""
        if self._missing("D8.03", c, y, "fee_items"):
            return None, None
        refund_setl = {r["setl_id"] for r in self.setl if r["refd_setl_flag"] in self.p.refund}
        lines = [r for r in self._by[("fee_items", c, y)] if r["setl_id"] not in refund_setl]
        return ratio(F(sum(1 for r in lines if r["natl_code_flag"] == "1")), F(len(lines))), F(len(lines))
