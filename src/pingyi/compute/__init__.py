"""The compute stage: measures (restricted SQL aggregates per provider and year), the case-mix model,
and indicator values (formulas over measures, reported values, expert scores).

    measures.py    measure SQL parsed and restricted (sqlglot), compiled to one query per table
    casemix.py     expected cost per stay and per outpatient visit from per-region models; the case-mix measures
    outcomes.py    expected deaths, readmissions, complications from per-region logistic models; O/E
    indicators.py  IndicatorValue of every provider and indicator
"""
