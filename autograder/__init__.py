"""autograder: exercises and automated grading for the PyTorch RNN lab (see docs/architecture.md)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("autograder")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
