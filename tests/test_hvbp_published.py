"""`points: hvbp` against points CMS itself published: FY 2024 Hospital VBP hospital-level scoring files.

Each case is one hospital's row for one measure in CMS's FY 2024 Hospital VBP hospital-level files
(hvbp_clinical_outcomes.csv, hvbp_safety.csv, hvbp_efficiency_and_cost_reduction.csv,
hvbp_person_and_community_engagement.csv, as CMS distributes them for download: columns
"<measure> Achievement Threshold / Benchmark / Baseline Rate / Performance Rate / Achievement Points /
Improvement Points / Measure Score (Dimension Score)"). These are CMS's computed results for real
hospitals, not the illustrative figures of a final rule. The numbers were read from copies of those
files committed to public GitHub repositories:

  A = github.com/AmareshMuddebihal/Crafting-a-data-visualization-story-to-communicate-insights-from-a-chosen-business-dataset.
      commit 2c07bbbbcc4dcaeffcdec1c6bb498e231ef4ade6 (all four files, "Fiscal Year" 2024)
  N = github.com/nstadle/HCAHPS_Outcome_Relationship, commit 9ec82c771e43703fecc66b7fc0be8a7fe69523d9
      (hvbp_clinical_outcomes.csv and hvbp_safety.csv: the same values, trailing zeros dropped)

Each case is cited as file / measure / CMS Certification Number (Facility ID). Inputs are copied as the
file prints them (HCAHPS rates in percent, HAI SIRs to 3 decimals, other rates to 6); the point formulas
do not depend on the scale. Direction: the mortality measures are survival rates (higher is better);
COMP-HIP-KNEE, the HAI SIRs and MSPB-1 are lower-is-better; HCAHPS dimensions are higher-is-better.

Against every measure row of these four files with a numeric threshold, benchmark and performance rate
(43,688 rows: achievement and, where the baseline is given, improvement), pingyi reproduces CMS's points.
"""

from __future__ import annotations

import pytest

from test_hvbp import vbp  # the same hvbp-scored indicator as the hand-computed cases

# (id, direction, achievement threshold, benchmark, baseline rate, performance rate,
#  CMS achievement points, CMS improvement points, CMS measure / dimension score)
CASES = [
    # A+N hvbp_clinical_outcomes.csv, MORT-30-AMI, 010001
    ("AMI-010001", "up", 0.869247, 0.887868, 0.856752, 0.880237, 6, 7, 7),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-HF, 010001
    ("HF-010001", "up", 0.882308, 0.907733, 0.872117, 0.901917, 7, 8, 8),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-AMI, 010131 (achievement 9 x r + 0.5 = 5.49 -> 5)
    ("AMI-010131", "up", 0.869247, 0.887868, 0.876675, 0.879578, 5, 2, 5),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-AMI, 030069 (achievement 4.50 -> 5)
    ("AMI-030069", "up", 0.869247, 0.887868, 0.870912, 0.877529, 5, 3, 5),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-AMI, 040041 (achievement 7.501 -> 8)
    ("AMI-040041", "up", 0.869247, 0.887868, 0.837798, 0.883732, 8, 9, 9),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-AMI, 010005 (below the threshold; improvement 3.52 -> 4)
    ("AMI-010005", "up", 0.869247, 0.887868, 0.848053, 0.864067, 0, 4, 4),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-COPD, 030010 (improvement 2.494 -> 2)
    ("COPD-030010", "up", 0.916491, 0.934002, 0.894750, 0.906502, 0, 2, 2),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-HF, 030013 (a hair better than baseline: 10 x r - 0.5 < 0 -> 0)
    ("HF-030013", "up", 0.882308, 0.907733, 0.881589, 0.881649, 0, 0, 0),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-AMI, 010024 (just past the benchmark, baseline below it)
    ("AMI-010024", "up", 0.869247, 0.887868, 0.861210, 0.887911, 10, 9, 10),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-AMI, 030103 (past the benchmark but worse than baseline)
    ("AMI-030103", "up", 0.869247, 0.887868, 0.891899, 0.890244, 10, 0, 10),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-HF, 010033 (baseline beyond the benchmark, then worse)
    ("HF-010033", "up", 0.882308, 0.907733, 0.908331, 0.901270, 7, 0, 7),
    # A+N hvbp_clinical_outcomes.csv, MORT-30-PN, 050135 (baseline already beyond the benchmark, then better:
    # CMS prints 9 of 9 improvement points)
    ("PN-050135", "up", 0.840281, 0.872976, 0.910018, 0.912152, 10, 9, 10),
    # A+N hvbp_clinical_outcomes.csv, COMP-HIP-KNEE, 010001 (lower is better)
    ("HIPKNEE-010001", "down", 0.025396, 0.018159, 0.030343, 0.022314, 4, 6, 6),
    # A+N hvbp_clinical_outcomes.csv, COMP-HIP-KNEE, 010005
    ("HIPKNEE-010005", "down", 0.025396, 0.018159, 0.030034, 0.019253, 8, 9, 9),
    # A+N hvbp_clinical_outcomes.csv, COMP-HIP-KNEE, 020012 (achievement 5.502 -> 6)
    ("HIPKNEE-020012", "down", 0.025396, 0.018159, 0.024540, 0.021374, 6, 4, 6),
    # A+N hvbp_safety.csv, HAI-2 (CAUTI SIR), 010001 (worse than baseline: improvement 0)
    ("HAI2-010001", "down", 0.650, 0.000, 0.324, 0.437, 3, 0, 3),
    # A+N hvbp_safety.csv, HAI-5 (MRSA SIR), 010005
    ("HAI5-010005", "down", 0.726, 0.000, 1.938, 0.531, 3, 7, 7),
    # A+N hvbp_safety.csv, HAI-6 (CDI SIR), 010005
    ("HAI6-010005", "down", 0.520, 0.014, 0.565, 0.487, 1, 1, 1),
    # A+N hvbp_safety.csv, HAI-2, 010012 (SIR 0 = benchmark in both periods: 10, no improvement)
    ("HAI2-010012", "down", 0.650, 0.000, 0.000, 0.000, 10, 0, 10),
    # A hvbp_efficiency_and_cost_reduction.csv, MSPB-1, 010005
    ("MSPB-010005", "down", 0.988920, 0.848160, 1.011867, 0.949566, 3, 3, 3),
    # A hvbp_efficiency_and_cost_reduction.csv, MSPB-1, 050040 (baseline already beyond the benchmark,
    # then better: CMS prints 9 of 9)
    ("MSPB-050040", "down", 0.988920, 0.848160, 0.831885, 0.824953, 10, 9, 10),
    # A hvbp_person_and_community_engagement.csv, Communication About Medicines, 010001 (percent)
    ("MEDS-010001", "up", 63.11, 74.05, 65.2044, 65.7507, 3, 0, 3),
    # A hvbp_person_and_community_engagement.csv, Care Transition, 010001 (just above the threshold)
    ("CARETRANS-010001", "up", 51.84, 63.57, 52.7031, 52.3364, 1, 0, 1),
    # A hvbp_person_and_community_engagement.csv, Communication With Doctors, 440072
    # (achievement 4.498 -> 4, improvement 6.5004 -> 7)
    ("DOCTORS-440072", "up", 79.83, 87.97, 72.8878, 83.4460, 4, 7, 7),
    # A hvbp_person_and_community_engagement.csv, Discharge Information, 010086 (baseline already beyond
    # the benchmark, then better: CMS prints 9 of 9)
    ("DISCHARGE-010086", "up", 87.23, 92.21, 92.8290, 94.4661, 10, 9, 10),
]


@pytest.mark.parametrize(
    "direction,threshold,benchmark,baseline,performance,ach,imp,score",
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_cms_published_points_times_ten(direction, threshold, benchmark, baseline, performance, ach, imp, score):
    ind = vbp(direction)
    pts = ind.scoring.points(ind, performance, threshold, benchmark, baseline)
    assert pts.detail["achievement"] == 10 * ach
    assert pts.detail["improvement"] == 10 * imp
    assert pts.score == 10 * score


def test_the_published_measure_score_is_the_higher_of_the_two():
    # CMS's own rule, checked on the cited rows themselves (a typo in the table would show here)
    assert all(score == max(ach, imp) for *_, ach, imp, score in CASES)
    assert len(CASES) >= 18
