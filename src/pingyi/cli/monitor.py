"""The monitor command: in-year warnings."""
