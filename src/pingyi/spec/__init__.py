"""The spec stage: a project's YAML (indicators, judgments, baselines, regions, policy, data settings,
measures) read with the file and line of every value, into frozen pydantic models.

    yamlsrc.py     YAML with locations (safe loader, duplicate keys reported)
    modelcheck.py  a located document checked against a model; errors become issues at file:line
    models.py      the models of every project file
    rules.py       the scoring rules, keyed by name (parameters, points, manual sentence)
    formula.py     the indicator formula language (parsed with ast, evaluated without eval)
    project.py     Project: the loaded catalogue, weights' judgments, baselines, policy
    load.py        load_project(): every file of a project directory, every problem collected

Imports no heavy library (no DuckDB, numpy, openpyxl, weasyprint): validating definitions is instant.
"""
