"""`python -m sambung` is the `sambung` console script; the process tree uses it."""

from sambung.cli import main

main()
