"""`python -m autograder`: the same command line as the `autograder` script."""

import sys

from autograder.cli import main

sys.exit(main())
