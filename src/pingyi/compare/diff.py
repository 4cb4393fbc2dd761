"""What changed between two runs: each run read from its results folder (or a ledger run id), checked
against its manifest, and compared provider by provider (see the package docstring for the shape)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pingyi.errors import PingyiError
from pingyi.ledger import open_ledger
from pingyi.ledger.records import unedited_results
from pingyi.report.manifest import is_report_manifest
from pingyi.run.manifest import sha256
from pingyi.run.schema import load_results_document
from pingyi.run.verify import read_manifest

FORMAT = "pingyi-compare/1"
# the provider counts of the totals, in the order the JSON, the table and the workbook give them
COUNTS = (
    "providers_compared",
    "providers_changed",
    "grade_changed",
    "designation_changed",
    "rank_changed",
    "amount_changed",
)
# a provider's own fields compared, in the order shown; `adjustment` follows, then the indicators
PROVIDER_FIELDS = ("total_score", "grade", "rank", "light", "eligibility", "veto")
# the adjustment's fields shown first; any other field (a sub-record added later) follows, sorted
ADJUSTMENT_FIRST = ("rate", "amount", "new_prepayment", "prepayment", "prepayment_source", "rule", "designation")
INDICATOR_FIELDS = ("value", "light", "score", "status", "corrected")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class Note:
    """Something the reader must know before reading the changes (another year, another catalogue)."""

    kind: str  # years | catalogue | definitions | schema | same_run
    text: str
    text_zh: str


@dataclass(frozen=True)
class Side:
    """One of the two runs compared."""

    label: str  # as given: the folder, or "run N"
    results_dir: str
    run_id: int | None
    run_kind: str | None  # the ledger's kind of the run (preview, final, recheck, monitor)
    year: int
    stage: str | None  # results.json parameters.stage (None for a plain run)
    date: str | None
    manifest_sha256: str
    providers: int


@dataclass(frozen=True)
class Change:
    """One changed field: of a provider (indicator None) or of one of its indicators; for a run's
    parameters or an indicator's definition, `provider` is empty."""

    provider: str
    name: str
    indicator: str | None
    field: str
    a: Any
    b: Any
    delta: Any  # b - a: a number for numbers, a decimal string for money and rates, else None


@dataclass(frozen=True)
class OnlyIn:
    """A provider present in one run only."""

    code: str
    name: str
    grade: str
    total_score: float | None
    amount: str


@dataclass(frozen=True)
class Money:
    penalties: Decimal  # total cut, a positive number
    rewards: Decimal
    net: Decimal  # rewards - penalties


@dataclass(frozen=True)
class Totals:
    a: Money
    b: Money
    net_change: Decimal  # b.net - a.net
    amount_difference: Decimal  # providers in both runs: sum of (amount in B - amount in A)
    amount_moved: Decimal  # providers in both runs: sum of |amount in B - amount in A|
    added_amount: Decimal  # providers only in B: sum of their amounts
    removed_amount: Decimal  # providers only in A
    providers_compared: int  # in both runs
    providers_changed: int
    grade_changed: int
    designation_changed: int
    rank_changed: int
    amount_changed: int


@dataclass(frozen=True)
class FileChanges:
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()  # only in B's inputs
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side
    notes: tuple[Note, ...]
    project_files: FileChanges
    data_files: FileChanges
    parameters: tuple[Change, ...]
    indicators_added: tuple[str, ...]
    indicators_removed: tuple[str, ...]
    definitions: tuple[Change, ...]  # catalogue entries of indicators in both runs that differ
    providers_added: tuple[OnlyIn, ...]
    providers_removed: tuple[OnlyIn, ...]
    changes: tuple[Change, ...]
    totals: Totals
    xlsx: Path | None = field(default=None, compare=False)

    @property
    def identical(self) -> bool:
        """No provider, indicator or definition differs (parameters and input files may)."""
        return not (
            self.changes
            or self.providers_added
            or self.providers_removed
            or self.indicators_added
            or self.indicators_removed
            or self.definitions
        )

    def to_json(self) -> dict[str, Any]:
        """The documented --json shape (pingyi.compare)."""

        def side(s: Side) -> dict[str, Any]:
            return dict(s.__dict__)

        def change(c: Change) -> dict[str, Any]:
            return {k: _plain(v) for k, v in c.__dict__.items()}

        def money(m: Money) -> dict[str, str]:
            return {"penalties": str(m.penalties), "rewards": str(m.rewards), "net": str(m.net)}

        def files(f: FileChanges) -> dict[str, list[str]]:
            return {"changed": list(f.changed), "added": list(f.added), "removed": list(f.removed)}

        t = self.totals
        return {
            "format": FORMAT,
            "identical": self.identical,
            "a": side(self.a),
            "b": side(self.b),
            "notes": [{"kind": n.kind, "text": n.text, "text_zh": n.text_zh} for n in self.notes],
            "inputs": {"project_files": files(self.project_files), "data_files": files(self.data_files)},
            "parameters": [change(c) for c in self.parameters],
            "indicators": {
                "added": list(self.indicators_added),
                "removed": list(self.indicators_removed),
                "definitions": [change(c) for c in self.definitions],
            },
            "providers": {
                "added": [dict(p.__dict__) for p in self.providers_added],
                "removed": [dict(p.__dict__) for p in self.providers_removed],
                "changed": sorted({c.provider for c in self.changes}),
            },
            "changes": [change(c) for c in self.changes],
            "totals": {
                "a": money(t.a),
                "b": money(t.b),
                "net_change": str(t.net_change),
                "amount_difference": str(t.amount_difference),
                "amount_moved": str(t.amount_moved),
                "added_amount": str(t.added_amount),
                "removed_amount": str(t.removed_amount),
                **{k: getattr(t, k) for k in COUNTS},
            },
        }


def _plain(value: Any) -> Any:
    """A value as JSON carries it (tuples as lists)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- reading the two runs


@dataclass(frozen=True)
class _Run:
    side: Side
    doc: dict[str, Any]
    manifest: dict[str, Any]


def _folder_run(
    folder: Path, label: str, which: str, run_id: int | None = None, ledger_run: Mapping[str, Any] | None = None
) -> _Run:
    """A results folder, refused unless its outputs still match its manifest (the check `pingyi
    ledger verify` makes of recorded runs) and, for a ledger run, unless its manifest is the recorded one."""
    mpath = folder / "manifest.json"
    if folder.is_dir() and is_report_manifest(read_manifest(folder)):
        raise PingyiError(f"{mpath}: is the manifest of a report folder; expected a results folder of `pingyi score`")
    manifest = unedited_results(folder, which, label)
    digest = sha256(mpath)
    if ledger_run is not None and digest != ledger_run["manifest_sha256"]:
        raise PingyiError(
            f"{mpath}: SHA-256 differs from the one the ledger recorded for run {run_id} "
            "(the folder was re-scored or edited after it was recorded); expected the recorded run"
        )
    doc, _ = load_results_document(folder)
    params = doc.get("parameters") or {}
    side = Side(
        label=label,
        results_dir=str(folder),
        run_id=run_id,
        run_kind=None if ledger_run is None else str(ledger_run["kind"]),
        year=int(doc["year"]),
        stage=params.get("stage"),
        date=params.get("date"),
        manifest_sha256=digest,
        providers=len(doc.get("providers") or []),
    )
    return _Run(side, doc, manifest)


def _ledger_run(ledger: Path, run_id: int, label: str) -> _Run:
    with open_ledger(ledger, migrate=False) as book:
        row = book.conn.execute(
            "SELECT id, kind, year, results_dir, manifest_sha256 FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        ids = [r[0] for r in book.conn.execute("SELECT id FROM runs ORDER BY id")]
    if row is None:
        known = f"runs {ids[0]}-{ids[-1]}" if ids else "no runs yet"
        raise PingyiError(f"{ledger}: no run {run_id} ({label}); the ledger holds {known} (pingyi ledger runs)")
    return _folder_run(Path(row["results_dir"]), f"run {run_id}", label, run_id, dict(row))


def read_run(arg: Path | str, ledger: Path | None, which: str) -> _Run:
    """RUN_A or RUN_B: digits only with a ledger are a run id of the ledger; anything else a folder."""
    text = str(arg)
    if text.isascii() and text.isdigit():
        if ledger is not None:
            return _ledger_run(Path(ledger), int(text), which)
        if not Path(text).is_dir():
            raise PingyiError(
                f"{which} {text!r}: a ledger run id needs --ledger FILE; expected a run id with --ledger, "
                "or a results folder"
            )
    return _folder_run(Path(text), text, which)


# --------------------------------------------------------------------------- comparing


def _delta(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return None
    if isinstance(a, int) and isinstance(b, int):
        return b - a
    if isinstance(a, int | float) and isinstance(b, int | float):
        return round(b - a, 10)
    if isinstance(a, str) and isinstance(b, str) and _DECIMAL.match(a) and _DECIMAL.match(b):
        return str(Decimal(b) - Decimal(a))
    return None


def diff_fields(
    a: Mapping[str, Any], b: Mapping[str, Any], first: Iterable[str] = (), prefix: str = ""
) -> list[tuple[str, Any, Any]]:
    """(field, a, b) for every field that differs: the `first` fields in their order, then the others
    sorted; a field that is an object on both sides is compared one level down (`prefix` + key + "."
    + sub-key), deeper levels as a whole. A field absent on one side is None there."""
    first = [k for k in first if k in a or k in b]
    keys = first + sorted((set(a) | set(b)) - set(first))
    out = []
    for key in keys:
        x, y = a.get(key), b.get(key)
        # an object on one side and absent (or an object) on the other: compared key by key
        if (isinstance(x, dict) or isinstance(y, dict)) and all(v is None or isinstance(v, dict) for v in (x, y)):
            sub_a, sub_b = x or {}, y or {}
            for sub in sorted(set(sub_a) | set(sub_b)):
                if sub_a.get(sub) != sub_b.get(sub):
                    out.append((f"{prefix}{key}.{sub}", sub_a.get(sub), sub_b.get(sub)))
            continue
        if x != y:
            out.append((f"{prefix}{key}", x, y))
    return out


def _money(providers: Iterable[Mapping[str, Any]]) -> Money:
    amounts = [_amount(p) for p in providers]
    penalties = -sum((x for x in amounts if x < 0), Decimal(0))
    rewards = sum((x for x in amounts if x > 0), Decimal(0))
    return Money(penalties=penalties, rewards=rewards, net=rewards - penalties)


def _amount(p: Mapping[str, Any]) -> Decimal:
    return Decimal(str((p.get("adjustment") or {}).get("amount") or "0"))


def _files(a: Mapping[str, str], b: Mapping[str, str]) -> FileChanges:
    return FileChanges(
        changed=tuple(sorted(k for k in set(a) & set(b) if a[k] != b[k])),
        added=tuple(sorted(set(b) - set(a))),
        removed=tuple(sorted(set(a) - set(b))),
    )


def _inputs(manifest: Mapping[str, Any], key: str) -> dict[str, str]:
    inputs = manifest.get("inputs")
    files = inputs.get(key) if isinstance(inputs, dict) else None
    return dict(files) if isinstance(files, dict) else {}


def _only_in(p: Mapping[str, Any]) -> OnlyIn:
    return OnlyIn(
        code=p["fixmedins_code"],
        name=p.get("fixmedins_name") or "",
        grade=p.get("grade") or "",
        total_score=p.get("total_score"),
        amount=str(_amount(p)),
    )


def _provider_changes(pa: Mapping[str, Any], pb: Mapping[str, Any], order: list[str]) -> list[Change]:
    code, name = pb["fixmedins_code"], pb.get("fixmedins_name") or pa.get("fixmedins_name") or ""

    def change(indicator: str | None, fld: str, x: Any, y: Any) -> Change:
        return Change(code, name, indicator, fld, x, y, _delta(x, y))

    out = [change(None, f, pa.get(f), pb.get(f)) for f in PROVIDER_FIELDS if pa.get(f) != pb.get(f)]
    adj = diff_fields(pa.get("adjustment") or {}, pb.get("adjustment") or {}, ADJUSTMENT_FIRST, "adjustment.")
    out += [change(None, f, x, y) for f, x, y in adj]
    ia = {i["code"]: i for i in pa.get("indicators") or []}
    ib = {i["code"]: i for i in pb.get("indicators") or []}
    for ind in order:
        x, y = ia.get(ind), ib.get(ind)
        if x is None and y is None:
            continue
        if x is None or y is None:
            out.append(change(ind, "indicator", "present" if x else "absent", "present" if y else "absent"))
            continue
        out += [change(ind, f, x.get(f), y.get(f)) for f in INDICATOR_FIELDS if x.get(f) != y.get(f)]
    return out


def _notes(a: _Run, b: _Run, added: list[str], removed: list[str], definitions: list[Change]) -> list[Note]:
    notes = []
    if a.side.manifest_sha256 == b.side.manifest_sha256:
        notes.append(Note("same_run", "A and B are the same run (same manifest)", "A与B为同一次运行（清单相同）"))
    ya, yb = a.side.year, b.side.year
    if ya != yb:
        notes.append(
            Note(
                "years",
                f"A is of {ya} and B of {yb}: a comparison across years; values, lights, scores and money "
                "differ by the year's data, baselines and prepayments as well as by any rule change",
                f"A为{ya}年度、B为{yb}年度：跨年度比较，数值、灯色、得分和金额的差异既来自各年度的数据、基线和预付金，"
                "也来自规则的变化",
            )
        )
    if added or removed:
        only_a = ", ".join(removed) or "none"
        only_b = ", ".join(added) or "none"
        notes.append(
            Note(
                "catalogue",
                f"the catalogues differ: indicators only in A: {only_a}; only in B: {only_b} "
                "(weights are redistributed, so totals are not like for like)",
                f"两次运行的指标目录不同：仅A有 {only_a}；仅B有 {only_b}（权重随之重新分配，总分不可直接对比）",
            )
        )
    if definitions:
        codes = ", ".join(sorted({c.indicator or "" for c in definitions}))
        notes.append(
            Note(
                "definitions",
                f"indicator definitions differ (rule, lights or weights) for: {codes}",
                f"以下指标的定义（计分规则、灯色阈值或权重）不同：{codes}",
            )
        )
    if a.doc.get("schema_version") != b.doc.get("schema_version"):
        va, vb = a.doc.get("schema_version"), b.doc.get("schema_version")
        notes.append(
            Note(
                "schema",
                f"results.json schema {va} in A and {vb} in B: fields only one of them has show as changed",
                f"results.json 结构版本不同（A {va}，B {vb}）：仅一方具有的字段显示为变化",
            )
        )
    return notes


# results.json fields of a catalogue entry that are words, not rules: a reworded meaning is no change
_WORDING = ("name_zh", "name_en", "meaning", "interpretation")


def compare_runs(run_a: Path | str, run_b: Path | str, *, ledger: Path | None = None) -> Comparison:
    """Compare two runs (results folders, or run ids of `ledger`); see the package docstring."""
    a = read_run(run_a, ledger, "RUN_A")
    b = read_run(run_b, ledger, "RUN_B")
    cat_a = {i["code"]: i for i in a.doc.get("indicators") or []}
    cat_b = {i["code"]: i for i in b.doc.get("indicators") or []}
    order = list(cat_b) + [c for c in cat_a if c not in cat_b]  # B's catalogue order, then A's others
    added = [c for c in cat_b if c not in cat_a]
    removed = [c for c in cat_a if c not in cat_b]
    definitions = []
    for code in order:
        if code in cat_a and code in cat_b:
            x = {k: v for k, v in cat_a[code].items() if k not in _WORDING}
            y = {k: v for k, v in cat_b[code].items() if k not in _WORDING}
            definitions += [Change("", "", code, f, u, v, _delta(u, v)) for f, u, v in diff_fields(x, y)]
    params_a = {**(a.doc.get("parameters") or {}), "grades": a.doc.get("grades")}
    params_b = {**(b.doc.get("parameters") or {}), "grades": b.doc.get("grades")}
    parameters = [Change("", "", None, f, x, y, _delta(x, y)) for f, x, y in diff_fields(params_a, params_b)]

    pa = {p["fixmedins_code"]: p for p in a.doc.get("providers") or []}
    pb = {p["fixmedins_code"]: p for p in b.doc.get("providers") or []}
    common = sorted(set(pa) & set(pb))
    changes: list[Change] = []
    # an indicator of one catalogue only is listed once (indicators_added / removed), not per provider
    both = [c for c in order if c in cat_a and c in cat_b]
    for code in common:
        changes += _provider_changes(pa[code], pb[code], both)
    diffs = [_amount(pb[c]) - _amount(pa[c]) for c in common]
    changed_fields = {(c.provider, c.field) for c in changes}
    providers_added = tuple(_only_in(pb[c]) for c in sorted(set(pb) - set(pa)))
    providers_removed = tuple(_only_in(pa[c]) for c in sorted(set(pa) - set(pb)))
    money_a, money_b = _money(pa.values()), _money(pb.values())
    totals = Totals(
        a=money_a,
        b=money_b,
        net_change=money_b.net - money_a.net,
        amount_difference=sum(diffs, Decimal(0)),
        amount_moved=sum((abs(d) for d in diffs), Decimal(0)),
        added_amount=sum((Decimal(p.amount) for p in providers_added), Decimal(0)),
        removed_amount=sum((Decimal(p.amount) for p in providers_removed), Decimal(0)),
        providers_compared=len(common),
        providers_changed=len({c.provider for c in changes}),
        grade_changed=sum((c, "grade") in changed_fields for c in common),
        designation_changed=sum((c, "adjustment.designation") in changed_fields for c in common),
        rank_changed=sum((c, "rank") in changed_fields for c in common),
        amount_changed=sum(d != 0 for d in diffs),
    )
    return Comparison(
        a=a.side,
        b=b.side,
        notes=tuple(_notes(a, b, added, removed, definitions)),
        project_files=_files(_inputs(a.manifest, "project_files"), _inputs(b.manifest, "project_files")),
        data_files=_files(_inputs(a.manifest, "data_files"), _inputs(b.manifest, "data_files")),
        parameters=tuple(parameters),
        indicators_added=tuple(added),
        indicators_removed=tuple(removed),
        definitions=tuple(definitions),
        providers_added=providers_added,
        providers_removed=providers_removed,
        changes=tuple(changes),
        totals=totals,
    )
