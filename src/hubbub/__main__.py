"""`python -m hubbub`."""

from hubbub.cli import main

main()
