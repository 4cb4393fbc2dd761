"""The disputes commands: template, import, decide, list, corrections."""
