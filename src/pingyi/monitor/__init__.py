"""In-year monitoring (预警): year-to-date indicators and lights from the months available, indicators
heading for red, warnings with a deadline for correction recorded in the ledger, notices."""
