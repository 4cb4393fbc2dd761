"""Peer groups by provider type (policy.yaml `peers`): a 妇幼保健院 is compared with 妇幼 peers only, a
group under `min_size` is merged upward (region dropped, then level) with a note, a group that stays
under five carries a caution on the card, an unmapped fixmedins_type is a note and not a crash, a bad
mapping is a validation error at its line, and the shipped example's 妇幼 and 中医 providers are
compared with their own type."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import MINI
from pingyi.report.card import provider_context
from pingyi.report.card_layout import peer_kpi_note
from pingyi.report.prepare import prepare
from pingyi.score.aggregate import ProviderResult
from pingyi.score.peers import PeerMember, assign_peer_groups, peer_view
from pingyi.spec.models import PeerPolicy
from pingyi.text import Light
from pingyi.validate import validate_project


def result(code: str, total: float) -> ProviderResult:
    return ProviderResult(
        fixmedins_code=code,
        total=total,
        grade="合格",
        grade_en="Pass",
        light=Light.YELLOW,
        primaries=(),
        indicators={},
        effective_weight={},
        contribution={},
    )


# six general hospitals and two 妇幼 in the east, three 妇幼 in the west, all 二级
PROVIDERS = [
    *((f"A{i}", "east", "综合", 60.0 + 5 * i) for i in range(1, 7)),  # 65 ... 90
    ("F1", "east", "妇幼", 70.0),
    ("F2", "east", "妇幼", 90.0),
    ("F3", "west", "妇幼", 80.0),
    ("F4", "west", "妇幼", 50.0),
    ("F5", "west", "妇幼", 95.0),
]


def members() -> list[PeerMember]:
    return [PeerMember(code, region, "二级", ptype) for code, region, ptype, _ in PROVIDERS]


def test_a_maternity_hospital_is_compared_with_maternity_peers_only():
    results = [result(code, total) for code, _, _, total in PROVIDERS]
    view = peer_view(results, members(), {}, PeerPolicy())
    # F1 (70) among the four other 妇幼 (90, 80, 50, 95): better than one -> 25; among all twelve
    # providers it would be better than 50, 65 and tied with 70: (3 + 0.5) / 10 -> 35
    assert view["F1"].total.n == 5 and view["F1"].total.percentile == 25.0
    assert view["F1"].type == "妇幼"
    # the general hospitals: six in the east, no merge; A3 (75) beats A1 (65), A2 (70) of five others -> 40
    assert view["A3"].total.n == 6 and view["A3"].total.percentile == 40.0
    assert view["A3"].group is not None and view["A3"].group.note is None


def test_a_small_group_is_merged_upward_with_its_note():
    groups = assign_peer_groups(members(), PeerPolicy())
    f1 = groups["F1"]
    # two 妇幼 in east x 二级: region dropped, five 二级 妇幼 remain (enough: no caution)
    assert (f1.keys, f1.values, f1.n, f1.merged) == (("level", "type"), ("二级", "妇幼"), 5, ("region",))
    assert f1.note_zh == "同地区同级别同类型机构不足5家（2家），合并为同级别同类型比较（5家）"
    assert f1.note == "fewer than 5 providers share region, level, type (2): compared within level, type (5)"
    # the west's three are merged the same way, so F1 and F3 share one group
    assert groups["F3"].keys == f1.keys and groups["F3"].n == 5
    a1 = groups["A1"]
    assert (a1.keys, a1.n, a1.merged, a1.note) == (("region", "level", "type"), 6, (), None)


def test_a_group_still_under_the_minimum_keeps_its_type_and_a_caution():
    small = [m for m in members() if m.code in ("A1", "A2", "F1", "F2", "F3")]
    groups = assign_peer_groups(small, PeerPolicy())
    # merge drops region, then level, never type: three 妇幼 stay a group of three
    assert (groups["F1"].keys, groups["F1"].n, groups["F1"].merged) == (("type",), 3, ("region", "level"))
    assert groups["F1"].note_zh is not None and groups["F1"].note_zh.endswith(
        "同组仅3家（不足5家），排名与分位仅供参考"
    )
    # the project may drop type first: east 二级 then has four (A1, A2, F1, F2), still under five, so
    # region goes too and the five 二级 providers are one group; level is never reached
    loose = assign_peer_groups(small, PeerPolicy(merge=["type", "region", "level"]))
    assert (loose["F1"].keys, loose["F1"].n, loose["F1"].merged) == (("level",), 5, ("type", "region"))
    assert (loose["F3"].keys, loose["F3"].n) == (("level",), 5)
    # min_size 1: nothing merges, F3 is alone (no percentile) and cautioned
    alone = assign_peer_groups(small, PeerPolicy(min_size=1))
    assert alone["F3"].n == 1 and alone["F3"].merged == ()
    assert alone["F3"].note is None  # 1 is not below min_size 1
    view = peer_view([result(c, t) for c, _, _, t in PROVIDERS if c in alone], small, {}, PeerPolicy(min_size=1))
    assert view["F3"].total.percentile is None and view["F1"].total.percentile == 0.0  # 70 vs F2's 90


def test_an_unmapped_type_is_a_note_not_a_crash():
    policy = PeerPolicy()
    assert policy.type_of("中西医结合医院") == "中医" and policy.type_of("妇幼保健院") == "妇幼"
    assert policy.type_of(" 妇幼 ") == "妇幼" and policy.type_of("卫生所") is None and policy.type_of("") is None
    odd = [*members(), PeerMember("X1", "east", "二级", policy.type_of("卫生所"), "卫生所")]
    g = assign_peer_groups(odd, policy)["X1"]
    # compared without the type: east 二级 has nine providers (A1-A6, F1, F2, X1)
    assert (g.keys, g.n) == (("region", "level"), 9)
    assert g.note is not None and "fixmedins_type '卫生所' is not in policy.yaml peers.type_aliases" in g.note
    assert g.note_zh is not None and "卫生所" in g.note_zh


@pytest.mark.parametrize(
    "peers,needle,found",
    [
        ("peers:\n  type_aliases:\n    妇幼保健院: 妇产\n", "妇幼保健院: 妇产", "妇产"),
        ("peers:\n  merge: [region, type]\n  keys: [region, level]\n", "merge: [region, type]", "type"),
        ("peers:\n  type_aliases:\n    中医: 综合\n", "中医: 综合", "中医"),
    ],
)
def test_a_bad_mapping_is_a_validation_error_at_its_line(tmp_path: Path, peers: str, needle: str, found: str):
    root = tmp_path / "project"
    shutil.copytree(MINI, root)
    policy = root / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8") + peers, encoding="utf-8")
    hits = [i for i in validate_project(root).issues.items if i.code == "PY609"]
    assert len(hits) == 1, [i.render() for i in validate_project(root).issues.items]
    line = next(n for n, text in enumerate(policy.read_text(encoding="utf-8").splitlines(), 1) if needle in text)
    assert (hits[0].file, hits[0].line, hits[0].found) == ("policy.yaml", line, found)
    assert hits[0].expected


def test_the_default_peer_settings_validate(tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(MINI, root)
    assert not [i for i in validate_project(root).issues.items if i.code == "PY609"]


MATERNITY = ("H33112100006", "H41162100004")
TCM = ("H33022500002", "H41032300003", "H51072200008")


def test_the_examples_maternity_and_tcm_providers_are_compared_with_their_own_type(example):
    doc = example.results
    by_code = {p["fixmedins_code"]: p for p in doc["providers"]}
    for codes, ptype in ((MATERNITY, "妇幼"), (TCM, "中医")):
        totals = {c: by_code[c]["total_score"] for c in codes}
        for c in codes:
            g = by_code[c]["peer_group"]
            # two 妇幼 and three 中医 in the whole example: region and level dropped, the type kept
            assert (g["type"], g["keys"], g["n"], g["merged"]) == (ptype, ["type"], len(codes), ["region", "level"])
            assert by_code[c]["peer_n"] == len(codes) and "仅供参考" in g["note_zh"]
            others = [t for o, t in totals.items() if o != c]
            below = sum(t < totals[c] for t in others) + 0.5 * sum(t == totals[c] for t in others)
            assert by_code[c]["peer_percentile"] == pytest.approx(100 * below / len(others))
    general = by_code["H33010200006"]["peer_group"]  # 三级 综合: six across the provinces
    assert (general["type"], general["keys"], general["n"]) == ("综合", ["level", "type"], 6)
    assert "仅供参考" not in general["note_zh"]
    # the card: rank among the two 妇幼 with its size and the caution, the note under the table
    prep = prepare(doc)
    ctx = provider_context(prep, MATERNITY[0])
    assert ctx["peer_rank_display"].endswith("/2†") and ctx["peer_group_name"] == "妇幼"
    assert peer_kpi_note(ctx) == "妇幼（2家，仅供参考）"
    assert "同组机构（妇幼，2家）" in ctx["percentile_note"] and "合并为同类型比较（2家）" in ctx["peer_group_note"]
    big = provider_context(prep, "H33010200006")
    assert "†" not in big["peer_rank_display"] and peer_kpi_note(big).startswith("三级·综合（6家）·P")
    en = provider_context(prepare(doc, lang="en"), MATERNITY[0])
    assert peer_kpi_note(en) == "MCH (2, indicative)" and "fewer than 5" in en["peer_group_note"]


def test_a_results_document_of_schema_1_3_still_reads():
    """1.4 only adds peer_group fields: a 1.3 peer_group (region and level) passes the reader, and the
    card compares within region and level as 1.3 did."""
    import json

    from conftest import REPORT_FIXTURE
    from pingyi.run.schema import check_document

    doc = json.loads((REPORT_FIXTURE / "results.json").read_text(encoding="utf-8"))
    assert doc["schema_version"] == "1.5"
    doc["schema_version"] = "1.3"
    for p in doc["providers"]:
        p["peer_group"] = {"region": p["region"], "level": p["level"]}
    checked = check_document(doc)
    assert checked.providers[0].peer_group.keys == ["region", "level"]
    ctx = provider_context(prepare(doc), "H33010600001")
    assert ctx["peer_rank_display"] == "1/2†" and ctx["peer_group_name"] == "东部·三级"


def test_peer_rank_puts_a_vetoed_provider_after_its_peers():
    """Inside a peer group as overall: a vetoed provider (graded 不合格 whatever its total) ranks after
    every peer without a veto, so its card never shows it at the top of its group."""
    from pingyi.report.prepare import peer_ranks

    def p(code, total, veto=()):
        group = {"region": "east", "level": "三级", "keys": ["region", "level"]}
        return {"fixmedins_code": code, "region": "east", "level": "三级", "total_score": total,
                "veto": list(veto), "peer_group": group, "primaries": [], "indicators": []}  # fmt: skip

    providers = [p("A", 95.0, ["欺诈骗保"]), p("B", 80.0), p("C", 70.0), p("D", 60.0, ["欺诈骗保"])]
    assert peer_ranks(providers) == {"B": 1, "C": 2, "A": 3, "D": 4}
