"""Commands of the evaluation cycle: ledger, rectify."""
