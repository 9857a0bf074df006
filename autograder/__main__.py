"""`python -m autograder`: the same command line as the `autograder` script."""

from autograder.cli import console_main

console_main()
