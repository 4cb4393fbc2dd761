"""The weights stage: AHP weights from the experts' pairwise judgments (or published direct weights),
per matrix with λmax, CI, CR and provenance; global weight = primary weight × local weight.

    ahp.py   the numerical method (eigenvector, Saaty's CR, Harker completion, AIJ aggregation)
    tree.py  compute_weights(): the WeightTree of a project, every judgment problem an issue
"""
