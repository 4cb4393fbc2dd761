"""Uncertainty and sensitivity of the ranks and grades (`pingyi uncertainty`), as the OECD/JRC
Handbook on composite indicators and COINr do it: Monte Carlo over the declared uncertainties, then
the percentiles of each provider's total and rank and the probability of each grade and adjustment;
Sobol first-order and total indices (SALib) of the methodological choices.

Declared uncertainties, so far: the weighting scheme (AHP, entropy, CRITIC, the combination; drawn
uniformly among those given) and each weight (× U(1 − noise, 1 + noise), renormalised). Baselines,
the funnel's overdispersion mode and the sampling error of survey indicators are not propagated yet:
the indicator scores are those of the run.

simulate.py  the vectorised re-aggregation, grades, ranks, Sobol indices
run.py       reading a results folder, the per-provider figures, uncertainty.csv and uncertainty.json
"""

from pingyi.uncertainty.run import SCHEMES, UNCERTAIN_BELOW, Uncertainty, run_uncertainty, write_outputs

__all__ = ["SCHEMES", "UNCERTAIN_BELOW", "Uncertainty", "run_uncertainty", "write_outputs"]
