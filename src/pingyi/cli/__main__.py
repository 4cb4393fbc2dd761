"""`python -m pingyi.cli`."""

from pingyi.cli import main

main()
