"""The state the generation steps share: the run's context (providers, parameters, person pools,
catalogue, DRG arrays, running id counters, provider totals gathered block by block) and the frame
of one block (its providers, random streams and the two years' bounds)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pingyi.tools.example.catalogue import Catalogue
from pingyi.tools.example.params import Params, Scale
from pingyi.tools.example.people import Pools
from pingyi.tools.example.providers import Providers
from pingyi.tools.example.rates import Rates


@dataclass
class Ctx:
    year: int
    pv: Providers
    params: Params
    pools: Pools
    cat: Catalogue
    deadline: int
    drg_cost: np.ndarray
    drg_los: np.ndarray
    drg_mort: np.ndarray
    drg_lowrisk: np.ndarray
    next_setl: dict  # year -> next sequence
    next_mdtrt: dict
    prior_hifp: np.ndarray  # cents per provider, prior year
    encounters: np.ndarray  # (providers, 2) clean encounters
    rates: Rates
    scale: Scale


@dataclass
class Frame:
    """One block of consecutive providers as every step of `generate_block` sees it.

    `rng` is the block's main stream; `xrng` draws what the optional columns need (direct
    settlement, quantities, catalogue codes), so those columns leave the draws of `rng` unchanged."""

    ctx: Ctx
    members: np.ndarray  # provider indices of the block
    rng: np.random.Generator
    xrng: np.random.Generator
    years: np.ndarray  # (prior year, evaluation year)
    y_start: np.ndarray  # first second of each year, epoch seconds
    y_end: np.ndarray  # last second of each year
