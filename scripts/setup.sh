#!/usr/bin/env bash
# Makes the project venv (.venv, or $AUTOGRADER_VENV) from constraints.txt, on a fresh machine or an
# old venv. It reinstalls only when pyproject.toml or constraints.txt changed since the last set-up.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${AUTOGRADER_VENV:-.venv}
python=${PYTHON:-python3}

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: need Python 3.11 or newer as '$python' (set PYTHON=...)" >&2
  exit 2
fi

want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
stamp="$venv/.autograder-setup"
compile_package() {
  # The package is installed editable, so pip leaves its bytecode unwritten, and a machine that sets
  # PYTHONDONTWRITEBYTECODE (this one does) would compile every module from source in every run: about
  # 100 ms of CPU for the grader's imports and 40 ms for the worker's, at start-up. Only changed files
  # are compiled again.
  "$venv/bin/python" -m compileall -q autograder >/dev/null || true
}

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  compile_package
  exit 0
fi

echo "setup: installing into $venv (torch $(grep -m1 '^torch==' constraints.txt | cut -d= -f3), CPU build)..." >&2
start=$SECONDS
"$python" -m venv "$venv"
log="$venv/setup.log"
# Every package goes through constraints.txt: torch stays at the pinned CPU build, never a newer CUDA one.
if ! "$venv/bin/python" -m pip install --disable-pip-version-check -c constraints.txt -e ".[test]" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "setup: pip install failed; full log in $log" >&2
  exit 1
fi
compile_package
echo "$want" >"$stamp"
echo "setup: done in $((SECONDS - start)) s" >&2
