"""The compare command: what changed between two runs."""
