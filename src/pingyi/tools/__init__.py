"""Tools around the evaluation: the synthetic example generator and the docs generator."""
