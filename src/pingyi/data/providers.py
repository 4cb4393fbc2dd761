"""The providers under evaluation (from the used rows of the providers table), each with its region
under the project's region scheme and its level as baselines name it (the quality stage has read
the export's spelling through data.yaml `level_aliases`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pingyi.numbers import money
from pingyi.spec.project import Project

UNKNOWN = "?"  # a province or region the regions file does not know


@dataclass(frozen=True)
class ProviderInfo:
    code: str
    name: str
    level: str
    type: str | None
    province: str
    province_name: str
    region: str
    prepayment: Decimal | None
    credit_rating: str | None = None  # providers.credit_rating trimmed (None: blank or no such column)


def read_providers(con: Any, project: Project) -> list[ProviderInfo]:
    """The used providers rows, ordered by code."""
    rows = con.execute("""SELECT fixmedins_code, fixmedins_name, hosp_lv, fixmedins_type, prepayment, credit_rating
                          FROM clean_providers ORDER BY fixmedins_code""").fetchall()
    scheme = project.baselines.region_scheme
    by_code = {p.code: p for p in project.regions.provinces}
    out = []
    for code, name, level, ptype, prepay, rating in rows:
        prov = by_code.get(code[1:3])
        region = prov.regions.get(scheme) if prov else None
        out.append(
            ProviderInfo(
                code=code,
                name=name,
                level=level,  # clean_providers holds the level baselines name (data.yaml level_aliases)
                type=ptype,
                province=code[1:3],
                province_name=prov.name if prov else UNKNOWN,
                region=region or UNKNOWN,
                prepayment=None if prepay is None else money(prepay),
                credit_rating=(rating or "").strip() or None,  # a blank-padded rating is the same rating
            )
        )
    return out
