"""Compare two results folders (or two ledger runs): per provider what changed in values, lights,
scores, grade, rank, adjustment and designation, with the money moved."""
