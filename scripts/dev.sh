#!/usr/bin/env bash
# The README's two commands. Each one sets up the venv first, so it works on a fresh clone.
#   scripts/dev.sh demo   the main job (today: check the student release, run the solution notebook)
#   scripts/dev.sh test   the test suite (what CI runs, through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bin=${AUTOGRADER_VENV:-.venv}/bin

case "${1:-}" in
  demo)
    "$bin/autograder" release --check
    # Runs every cell, visible checks included, in a real Jupyter kernel; saves nothing.
    "$bin/jupyter" execute solutions/rnn_intro/rnn_intro.ipynb
    echo "solution notebook: every cell ran, every visible check passed"
    ;;
  test)
    shift
    exec "$bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: scripts/dev.sh demo|test [pytest arguments]" >&2
    exit 2
    ;;
esac
