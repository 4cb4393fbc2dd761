"""Uncertainty and sensitivity of the ranks and grades (`pingyi uncertainty`), as the OECD/JRC
Handbook on composite indicators and COINr do it: Monte Carlo over the declared uncertainties, then
the percentiles of each provider's total and rank and the probability of each grade and adjustment;
Sobol first-order and total indices (SALib) of the methodological choices.

Declared uncertainties: the weighting scheme (AHP, entropy, CRITIC, the combination; drawn uniformly
among those given), each weight (× U(1 − noise, 1 + noise), renormalised), the experts behind the AHP
weights (a bootstrap of each matrix's panel), baselines derived from a reference year (their order
statistic's distribution) and the sampling error of survey shares (their Jeffreys posterior); the last
two re-score the indicators they move. The funnel's overdispersion mode moves no score (see cells.py).

simulate.py  the vectorised re-aggregation, grades, ranks, the Sobol design and analysis
cells.py     the cells a sample re-scores, the draws of survey shares and derived baselines
model.py     the factors together: the Monte Carlo and the Sobol design over them
run.py       reading a results folder, the per-provider figures, uncertainty.csv and uncertainty.json
"""

from pingyi.uncertainty.model import SOURCES
from pingyi.uncertainty.run import SCHEMES, UNCERTAIN_BELOW, Uncertainty, run_uncertainty, write_outputs

__all__ = ["SCHEMES", "SOURCES", "UNCERTAIN_BELOW", "Uncertainty", "run_uncertainty", "write_outputs"]
