"""Report cards: one pure context per provider (and one for the committee), rendered as PDF, Excel
and offline HTML from the same dicts.

    context.py   pure: results.json -> provider and committee contexts (numbers, lights, reasons,
                 chart data, peers, what to fix first, changes, adjustment, data quality)
    labels.py    every word, Chinese and English
    charts.py    pure: radar and bar charts as inline SVG
    loader.py    reading a results directory (results.json, scores.csv, quality.csv, rejected.csv)
    templates.py jinja2 environment (autoescape on; --templates DIR overrides reports/templates/)
    pdf.py       weasyprint; cards in parallel worker processes, one FontConfiguration per worker
    xlsx.py      openpyxl streaming workbook; text never becomes a formula
    html.py      self-contained cards, committee page and a sortable, filterable index
    run.py       `pingyi report`: all of the above with progress callbacks
"""

from pingyi.report.context import build_contexts, committee_context, prepare, provider_context

__all__ = ["build_contexts", "committee_context", "prepare", "provider_context"]
