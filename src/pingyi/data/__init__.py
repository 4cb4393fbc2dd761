"""The data stage: a provider data bundle read into DuckDB, every row checked, and the views the
measures read. Nothing is lost: rows read = rows used + rows rejected, with a reason per rejected row.

    contract.py   the tables and columns by platform field code (docs/data-bundle.md in code)
    bundle.py     open_bundle(): one file per table (CSV, JSON, Parquet, XLSX, XML) as text in DuckDB
    read.py       the CSV, JSON and Parquet readers; sheets.py: XLSX and XML
    checks.py     the data-quality checks, one SQL boolean each, with reason codes
    quality.py    run_quality(): clean_<table> views, quality.csv, rejected.csv, QualityResult
    providers.py  the providers under evaluation with their region and level
    views.py      settlement_rows and stays: the derived columns measures read
    write.py      save_bundle(): a bundle in another format
"""
