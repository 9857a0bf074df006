#!/usr/bin/env bash
# The README's two commands. Each one sets up the venv first, so it works on a fresh clone.
#   scripts/dev.sh demo   the main job: check the student release is current, grade the bundled examples
#   scripts/dev.sh test   the test suite (what CI runs, through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bin=${AUTOGRADER_VENV:-.venv}/bin

case "${1:-}" in
  demo)
    "$bin/autograder" release --check
    # Writes examples/grading-output/ (grades.csv, results/*.json, feedback/*.html, summary.html); git ignores it.
    "$bin/autograder" grade examples/submissions
    ;;
  test)
    shift
    # The page tests open the feedback and summary pages in a real headless Chromium.
    bash scripts/install_chromium.sh
    exec "$bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: scripts/dev.sh demo|test [pytest arguments]" >&2
    exit 2
    ;;
esac
