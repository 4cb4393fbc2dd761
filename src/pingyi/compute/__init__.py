"""The compute stage: measures (restricted SQL aggregates per provider and year), the case-mix model,
and indicator values (formulas over measures, reported values, expert scores).

    measures.py    measure SQL parsed and restricted (sqlglot), compiled to one query per table
    casemix.py     expected cost per stay from a per-region model; the case-mix measures
    indicators.py  IndicatorValue of every provider and indicator
"""
