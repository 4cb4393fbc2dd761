"""pingyi (评议): annual performance scorecards for medical-insurance designated providers."""

__version__ = "0.1.0"
