"""The evaluation cycle around a score: preview and final runs recorded in the ledger, the grade
history and credit status they carry, rectification items opened by a final run and closed by the next."""
