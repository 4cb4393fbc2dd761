"""Derived views the measures read: fixed, reviewed SQL (not committee input).

`setl_lists` measures read the enriched view `stays`: each inpatient stay with its DRG reference
values, the same-year regional mean cost and stay of its DRG (over all providers of its region:
the E_i of the cost and time efficiency indices), its cost from the settlements, whether they were
manual claims, whether an unplanned readmission followed within 31 days, and whether its DRG is a
low-risk group. Risk groups follow the BJ-DRG method [china.md §2.1]:
per region (of the project's region scheme, from the provider's province) and DRG, in-hospital
mortality m_i over both years of the bundle; z = standardised ln(m_i) over the region's DRGs with
deaths; z < -1 is low risk; a DRG with no death in the region is low risk. Without a region table
(`provider_regions`) the whole bundle is one region.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pingyi.data.contract import TABLES

# columns the `settlement_rows` view adds to clean_settlements
SETTLEMENT_COLUMNS: dict[str, str] = {
    "offsite_flag": "'1' when the insured area differs from the provider's pooling area (异地就医): prefecture-level "
    "pooling by default (first 4 digits); a province-level pooling code XX99xx matches its province; "
    "the four municipalities (11, 12, 31, 50) pool province-wide",
    "list_timely": "'1' when the encounter's settlement list (setl_lists, same mdtrt_id and provider) was uploaded "
    "in time (dcla_time no later than its setl_time + upload_deadline_days: not flagged late_upload), '0' when "
    "late, NULL when the encounter has no used settlement list",
}

SETTLEMENTS_SQL = """
CREATE OR REPLACE TEMP VIEW settlement_rows AS
SELECT s.* REPLACE (coalesce(s.direct_setl_flag, '1') AS direct_setl_flag),
       CASE WHEN s.insuplc_admdvs IS NULL THEN NULL
            WHEN substr(s.insuplc_admdvs, 1, 2) <> substr(s.fixmedins_code, 2, 2) THEN '1'
            WHEN substr(s.insuplc_admdvs, 1, 2) IN ('11', '12', '31', '50') THEN '0'
            WHEN substr(s.insuplc_admdvs, 3, 2) = '99' THEN '0'
            WHEN substr(s.insuplc_admdvs, 1, 4) = substr(s.fixmedins_code, 2, 4) THEN '0'
            ELSE '1' END AS offsite_flag,
       -- a property of the stay's list attached to its settlements, so that a measure counting timely lists
       -- over settlements counts only stays of its own population (D8.01: numerator within the denominator)
       CASE WHEN l.mdtrt_id IS NULL THEN NULL WHEN l.late_upload THEN '0' ELSE '1' END AS list_timely
FROM clean_settlements s
LEFT JOIN clean_setl_lists l ON l.mdtrt_id = s.mdtrt_id AND l.fixmedins_code = s.fixmedins_code
"""


def create_settlement_rows(con: Any) -> None:
    con.execute(SETTLEMENTS_SQL)


# columns the `stays` view adds to clean_setl_lists (declared for measure validation)
STAY_COLUMNS: dict[str, str] = {
    "drg_weight": "DRG relative weight RW (drg_groups.weight); NULL when not grouped",
    "drg_mean_cost": "base-period regional mean cost of the stay's DRG from the DRG table (drg_groups.mean_cost)",
    "drg_mean_los": "base-period regional mean stay of the stay's DRG from the DRG table (drg_groups.mean_los)",
    "drg_region_cost": "mean stay_cost of the stay's DRG over the stays of all providers of its region in the same year",
    "drg_region_los": "mean act_ipt_days of the stay's DRG over the stays of all providers of its region in the same year",
    "drg_region_stays": "number of stays behind drg_region_cost and drg_region_los",
    "stay_cost": "Σ medfee_sumamt of the stay's settlements (refunds netted)",
    "dead": "1 when dscg_way = '5' (death)",
    "unplanned_readmit_31": "1 when another stay of the same person (psn_no) at the same provider is admitted at "
    "or after this stay's discharge time and at most 31 days after its discharge date (admission date - "
    "discharge date <= 31), and this stay did not plan it (days_rinp_flag_31 <> '2')",
    "manual_claim": "1 when every used settlement of the stay (same mdtrt_id) is a manual claim "
    "(direct_setl_flag = 0, 手工（零星）报销), 0 when one was settled directly, NULL when it has none",
    "drg_risk_z": "standardised log mortality of the stay's DRG across the provider's region",
    "low_risk_drg": "1 when the stay's DRG is a low-risk group (z < -1, or no deaths in the region)",
}

STAYS_SQL = """
CREATE OR REPLACE TEMP VIEW drg_mortality AS
WITH per_drg AS (
    SELECT coalesce(r.region, '') AS region, l.drg_code, count(*) AS cases,
           sum(CASE WHEN l.dscg_way = '5' THEN 1 ELSE 0 END) AS deaths
    FROM clean_setl_lists l LEFT JOIN provider_regions r USING (fixmedins_code)
    WHERE l.drg_code IS NOT NULL GROUP BY ALL
), logged AS (  -- ln m in DECIMAL(38, 12): exact sums below, so z does not depend on the order of the DRGs
    SELECT *, CASE WHEN deaths > 0 THEN ln(deaths / cases) END AS log_m,
           CASE WHEN deaths > 0 THEN CAST(ln(deaths / cases) AS DECIMAL(38, 12)) END AS x FROM per_drg
), stats AS (  -- k, Σx and k Σx² − (Σx)² (= k (k − 1) var, exactly: 0 when all DRGs share one mortality)
    SELECT region, count(x) AS k, sum(x) AS sx, count(x) * sum(x * x) - sum(x) * sum(x) AS kvar
    FROM logged WHERE x IS NOT NULL GROUP BY region
)
SELECT l.region, l.drg_code, l.cases, l.deaths, l.log_m,
       CASE WHEN l.x IS NULL THEN NULL WHEN s.k < 2 OR s.kvar <= 0 THEN 0
            ELSE CAST(s.k * l.x - s.sx AS DOUBLE) / sqrt(CAST(s.kvar AS DOUBLE) * s.k / (s.k - 1)) END AS z
FROM logged l LEFT JOIN stats s USING (region);

CREATE OR REPLACE TEMP VIEW stays AS
WITH cost AS (
    SELECT mdtrt_id, sum(medfee_sumamt) AS stay_cost,
           CASE WHEN bool_or(coalesce(direct_setl_flag, '1') = '1') THEN 0 ELSE 1 END AS manual_claim
    FROM clean_settlements GROUP BY mdtrt_id
), readmitted AS (  -- a readmission starts at or after the discharge (an earlier start is an overlapping record)
    SELECT a.mdtrt_id FROM clean_setl_lists a JOIN clean_setl_lists b
        ON b.fixmedins_code = a.fixmedins_code AND b.psn_no = a.psn_no AND b.mdtrt_id <> a.mdtrt_id
       AND b.adm_time >= a.dscg_time AND date_diff('day', CAST(a.dscg_time AS DATE), CAST(b.adm_time AS DATE)) <= 31
    GROUP BY a.mdtrt_id
), ordered AS (
    SELECT l.*, coalesce(r.region, '') AS _region, x.mdtrt_id IS NOT NULL AS _readmitted
    FROM clean_setl_lists l LEFT JOIN provider_regions r USING (fixmedins_code)
    LEFT JOIN readmitted x ON x.mdtrt_id = l.mdtrt_id
), costed AS (
    SELECT o.*, c.stay_cost, c.manual_claim FROM ordered o LEFT JOIN cost c ON c.mdtrt_id = o.mdtrt_id
), regional AS (  -- same region, same year, same DRG: the mean the efficiency indices compare with
    SELECT _region, year, drg_code, avg(stay_cost) AS drg_region_cost, avg(act_ipt_days) AS drg_region_los,
           count(*) AS drg_region_stays
    FROM costed WHERE drg_code IS NOT NULL AND stay_cost IS NOT NULL AND act_ipt_days IS NOT NULL GROUP BY ALL
)
SELECT o.* EXCLUDE (_readmitted, _region),
       g.weight AS drg_weight, g.mean_cost AS drg_mean_cost, g.mean_los AS drg_mean_los,
       rg.drg_region_cost, rg.drg_region_los, rg.drg_region_stays,
       CASE WHEN o.dscg_way = '5' THEN 1 ELSE 0 END AS dead,
       CASE WHEN o._readmitted AND coalesce(o.days_rinp_flag_31, '1') <> '2' THEN 1 ELSE 0 END AS unplanned_readmit_31,
       m.z AS drg_risk_z,
       CASE WHEN o.drg_code IS NULL THEN NULL WHEN m.log_m IS NULL OR m.z < -1 THEN 1 ELSE 0 END AS low_risk_drg
FROM costed o
LEFT JOIN {drg_view} g ON g.drg_code = o.drg_code
LEFT JOIN regional rg ON rg._region = o._region AND rg.year = o.year AND rg.drg_code = o.drg_code
LEFT JOIN drg_mortality m ON m.region = o._region AND m.drg_code = o.drg_code
"""

EMPTY_DRG_SQL = """
CREATE OR REPLACE TEMP VIEW empty_drg_groups AS
SELECT CAST(NULL AS VARCHAR) AS drg_code, CAST(NULL AS DOUBLE) AS weight, CAST(NULL AS DOUBLE) AS mean_cost,
       CAST(NULL AS DOUBLE) AS mean_los WHERE false
"""


def create_stays(con: Any, have_drg_groups: bool, region_of: Mapping[str, str] | None = None) -> None:
    """Create `stays` over clean_setl_lists (and clean_drg_groups when the bundle has it). `region_of`:
    provider code -> region, for the regional DRG risk levels (None: the bundle is one region)."""
    con.execute("CREATE OR REPLACE TEMP TABLE provider_regions (fixmedins_code VARCHAR PRIMARY KEY, region VARCHAR)")
    if region_of:
        con.executemany("INSERT INTO provider_regions VALUES (?, ?)", sorted(region_of.items()))
    drg_view = "clean_drg_groups" if have_drg_groups else "empty_drg_groups"
    if not have_drg_groups:
        con.execute(EMPTY_DRG_SQL)
    con.execute(STAYS_SQL.format(drg_view=drg_view))  # two statements: DuckDB runs them in turn


# the view each table's measures read: the two enriched views, else the table's used rows
MEASURE_VIEWS: dict[str, str] = {"settlements": "settlement_rows", "setl_lists": "stays"}
# the columns those views add to the table's own (declared for measure validation and documented)
DERIVED_COLUMNS: dict[str, dict[str, str]] = {"settlements": SETTLEMENT_COLUMNS, "setl_lists": STAY_COLUMNS}


def view_of(table: str) -> str:
    return MEASURE_VIEWS.get(table, f"clean_{table}")


def unique_key(table: str) -> str | None:
    """The column that names one row of `table`'s measure view, when the contract declares a one-column
    key: the quality stage keeps one row per key, and each view joins at most one row onto it (the
    settlement list of an encounter, the cost of a stay, the DRG reference of a code), so
    count(DISTINCT key) over the view is count(key) and needs no hash table."""
    spec = TABLES.get(table)
    return spec.key[0] if spec is not None and len(spec.key) == 1 else None


def create_views(con: Any, present: Iterable[str], region_of: Mapping[str, str]) -> dict[str, str]:
    """Create the views the measures read and return table -> view for every table in the bundle.
    `region_of`: provider code -> region (the DRG risk levels are per region)."""
    present = set(present)
    create_settlement_rows(con)
    if "setl_lists" in present:
        create_stays(con, "drg_groups" in present, region_of)
    return {t: view_of(t) for t in sorted(present | {"settlements"})}
