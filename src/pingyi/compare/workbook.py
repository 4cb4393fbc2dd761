"""The comparison as a workbook: a 汇总 sheet (the two runs, the notes and the money) and a 变化 sheet
(one row per change), written with the report's xlsx writer: text cells are inline strings, never
formulas, and the zip entries carry a fixed date, so the same comparison gives the same bytes."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from pingyi import text as tx
from pingyi.compare.diff import COUNTS, Comparison
from pingyi.errors import PingyiError
from pingyi.report.xlsxbook import BookWriter, SheetWriter

_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
MONEY = "#,##0.00"
PERCENT = "0.00%"

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "summary": "汇总",
        "changes": "变化",
        "item": "项目",
        "change": "差额",
        "run": "运行",
        "results_dir": "结果目录",
        "run_id": "台账运行号",
        "run_kind": "台账运行类型",
        "year": "年度",
        "stage": "阶段",
        "date": "日期",
        "manifest": "清单 SHA-256",
        "providers": "机构数",
        "penalties": "扣减合计（元）",
        "rewards": "奖励合计（元）",
        "net": "净额（元）",
        "amount_difference": "两次均有机构：调整金额差额合计（元）",
        "amount_moved": "两次均有机构：调整金额变动绝对值合计（元）",
        "added_amount": "仅B有机构的调整金额（元）",
        "removed_amount": "仅A有机构的调整金额（元）",
        "providers_compared": "两次均有的机构",
        "providers_changed": "有变化的机构",
        "grade_changed": "等级变化的机构",
        "designation_changed": "定点资格变化的机构",
        "rank_changed": "排名变化的机构",
        "amount_changed": "调整金额变化的机构",
        "note": "说明",
        "project_files": "项目文件变化",
        "data_files": "数据文件变化",
        "providers_added": "仅B有的机构",
        "providers_removed": "仅A有的机构",
        "indicators_added": "仅B有的指标",
        "indicators_removed": "仅A有的指标",
        "none": "无变化",
        "code": "机构编码",
        "name": "机构名称",
        "indicator": "指标",
        "field": "字段",
        # field labels; a field not named here (a sub-record added later) shows as its own name
        "f:total_score": "总分",
        "f:grade": "等级",
        "f:rank": "排名",
        "f:light": "灯",
        "f:eligibility": "评级资格",
        "f:veto": "一票否决",
        "f:adjustment.rate": "调整比例",
        "f:adjustment.amount": "调整金额（元）",
        "f:adjustment.new_prepayment": "调整后预付金（元）",
        "f:adjustment.prepayment": "预付金（元）",
        "f:adjustment.prepayment_source": "预付金来源",
        "f:adjustment.rule": "调整规则",
        "f:adjustment.designation": "定点资格",
        "f:value": "数值",
        "f:score": "得分",
        "f:status": "状态",
        "f:corrected": "复核更正",
        "f:indicator": "指标",
    },
    "en": {
        "summary": "Summary",
        "changes": "Changes",
        "item": "Item",
        "change": "Change",
        "run": "Run",
        "results_dir": "Results folder",
        "run_id": "Ledger run id",
        "run_kind": "Ledger run kind",
        "year": "Year",
        "stage": "Stage",
        "date": "Date",
        "manifest": "Manifest SHA-256",
        "providers": "Providers",
        "penalties": "Penalties (yuan)",
        "rewards": "Rewards (yuan)",
        "net": "Net (yuan)",
        "amount_difference": "Providers in both: sum of amount differences (yuan)",
        "amount_moved": "Providers in both: sum of absolute amount differences (yuan)",
        "added_amount": "Providers only in B: their amounts (yuan)",
        "removed_amount": "Providers only in A: their amounts (yuan)",
        "providers_compared": "Providers in both runs",
        "providers_changed": "Providers with a change",
        "grade_changed": "Providers whose grade changed",
        "designation_changed": "Providers whose designation changed",
        "rank_changed": "Providers whose rank changed",
        "amount_changed": "Providers whose amount changed",
        "note": "Note",
        "project_files": "Project files changed",
        "data_files": "Data files changed",
        "providers_added": "Providers only in B",
        "providers_removed": "Providers only in A",
        "indicators_added": "Indicators only in B",
        "indicators_removed": "Indicators only in A",
        "none": "no change",
        "code": "Provider code",
        "name": "Provider name",
        "indicator": "Indicator",
        "field": "Field",
        "f:total_score": "Total score",
        "f:grade": "Grade",
        "f:rank": "Rank",
        "f:light": "Light",
        "f:eligibility": "Eligibility",
        "f:veto": "Veto",
        "f:adjustment.rate": "Adjustment rate",
        "f:adjustment.amount": "Adjustment amount (yuan)",
        "f:adjustment.new_prepayment": "New prepayment (yuan)",
        "f:adjustment.prepayment": "Prepayment (yuan)",
        "f:adjustment.prepayment_source": "Prepayment source",
        "f:adjustment.rule": "Adjustment rule",
        "f:adjustment.designation": "Designation",
        "f:value": "Value",
        "f:score": "Score",
        "f:status": "Status",
        "f:corrected": "Correction after review",
        "f:indicator": "Indicator",
    },
}


def field_label(name: str, lang: str) -> str:
    return WORDS[lang].get(f"f:{name}", name)


def _word(field: str, value: Any, lang: tx.Lang) -> Any:
    """A light or designation in the reader's words; anything else as recorded."""
    if isinstance(value, str) and field in ("light", "adjustment.designation"):
        if field == "light":
            return tx.light_word(value, lang, short=True)
        return tx.designation_word(value, lang, short=True)
    return value


def _cell(sh: SheetWriter, value: Any, fmt: str | None = None) -> Any:
    """Numbers (and decimal strings: money, rates) as numbers, in `fmt`; objects as compact JSON text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return sh.text("true" if value else "false")
    if isinstance(value, Decimal):
        return sh.num(float(value), fmt or MONEY)
    if isinstance(value, int | float):
        return sh.num(value, fmt)
    if isinstance(value, str) and _DECIMAL.match(value):
        return sh.num(float(value), fmt)
    if isinstance(value, dict | list | tuple):
        return sh.text(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return sh.text(value)


def _format(field: str) -> str | None:
    """Rates as percentages; the adjustment's other decimal strings are yuan (a sub-record's rate too)."""
    if field.endswith("rate"):
        return PERCENT
    return MONEY if field.startswith("adjustment.") else None


def workbook_bytes(cmp: Comparison, lang: str = "zh") -> bytes:
    if lang not in tx.LANGS:
        raise PingyiError(f"--lang {lang!r}; expected one of {', '.join(tx.LANGS)}")
    lg: tx.Lang = "en" if lang == "en" else "zh"
    W = WORDS[lg]
    book = BookWriter()
    sh = book.sheet(W["summary"], [W["item"], "A", "B", W["change"]], widths_max=70)

    def row(key: str, a: Any, b: Any, change: Any = None) -> None:
        sh.add([sh.text(W[key], bold=True), _cell(sh, a), _cell(sh, b), _cell(sh, change)])

    A, B, t = cmp.a, cmp.b, cmp.totals
    sh.add([sh.text(W["run"], bold=True), sh.text(A.label), sh.text(B.label)])
    row("results_dir", A.results_dir, B.results_dir)
    row("run_id", A.run_id, B.run_id)
    row("run_kind", A.run_kind, B.run_kind)
    row("year", A.year, B.year)
    row("stage", A.stage, B.stage)
    row("date", A.date, B.date)
    sh.add([sh.text(W["manifest"], bold=True), sh.text(A.manifest_sha256), sh.text(B.manifest_sha256)])
    row("providers", A.providers, B.providers, B.providers - A.providers)
    for note in cmp.notes:
        sh.add([sh.text(W["note"], bold=True), sh.text(note.text_zh if lg == "zh" else note.text, wrap=True)])
    row("penalties", t.a.penalties, t.b.penalties, t.b.penalties - t.a.penalties)
    row("rewards", t.a.rewards, t.b.rewards, t.b.rewards - t.a.rewards)
    row("net", t.a.net, t.b.net, t.net_change)
    for key in ("amount_difference", "amount_moved", "added_amount", "removed_amount"):
        row(key, None, None, getattr(t, key))
    for key in COUNTS:
        row(key, None, None, getattr(t, key))
    for key, files in (("project_files", cmp.project_files), ("data_files", cmp.data_files)):
        names = [*files.changed, *(f"+{n}" for n in files.added), *(f"-{n}" for n in files.removed)]
        if names:
            sh.add([sh.text(W[key], bold=True), sh.text(", ".join(names))])
    for key, only in (("providers_removed", cmp.providers_removed), ("providers_added", cmp.providers_added)):
        for p in only:
            sh.add(
                [
                    sh.text(W[key], bold=True),
                    sh.text(f"{p.code} {p.name}"),
                    sh.text(p.grade),
                    sh.num(float(p.amount), MONEY),
                ]
            )
    for key, codes in (("indicators_removed", cmp.indicators_removed), ("indicators_added", cmp.indicators_added)):
        if codes:
            sh.add([sh.text(W[key], bold=True), sh.text(", ".join(codes))])
    if cmp.identical:
        sh.add([sh.text(W["changes"], bold=True), sh.text(W["none"])])
    sh.close()

    ch = book.sheet(
        W["changes"],
        [W["code"], W["name"], W["indicator"], W["item"], W["field"], "A", "B", W["change"]],
        widths_max=50,
    )
    for c in (*cmp.parameters, *cmp.definitions, *cmp.changes):
        fmt = _format(c.field)
        ch.add(
            [
                ch.text(c.provider),
                ch.text(c.name),
                ch.text(c.indicator or ""),
                ch.text(field_label(c.field, lg)),
                ch.text(c.field),
                _cell(ch, _word(c.field, c.a, lg), fmt),
                _cell(ch, _word(c.field, c.b, lg), fmt),
                _cell(ch, c.delta, fmt),
            ]
        )
    ch.close()
    return book.save()
