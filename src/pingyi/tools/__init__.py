"""Tools around the evaluation: the synthetic example generator (`pingyi example`, tools/example/) and
the generator of the docs that must not go stale (tools/docsgen.py)."""
