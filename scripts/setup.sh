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
  # PYTHONDONTWRITEBYTECODE would compile every module from source at every start (docs/performance.md
  # says what that cost). Only changed files are compiled again.
  "$venv/bin/python" -m compileall -q autograder >/dev/null || true
}

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  compile_package
  exit 0
fi

torch_version=$(grep -m1 '^torch==' constraints.txt | cut -d= -f3)
echo "setup: making $venv with $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')" >&2
start=$SECONDS
"$python" -m venv "$venv"
log="$venv/setup.log"

# pip's lines go whole to the log; the terminal gets a line per stage and per large download, and a
# line after each 20 s without news (unpacking torch is silent), so that a first
# set-up never looks hung. On a terminal, one more line counts the packages as pip finds them.
progress() {
  local line count=0 tty=0 status
  [ -t 2 ] && tty=1
  while :; do
    if IFS= read -r -t 20 line; then
      printf '%s\n' "$line" >>"$log"
      case $line in
        Collecting* | Processing*)
          count=$((count + 1))
          if [ "$tty" = 1 ]; then
            printf '\r\033[Ksetup:   %d: %s' "$count" "$(printf '%s' "${line#* }" | cut -d' ' -f1 | cut -c1-60)" >&2
          fi
          ;;
        *Downloading*MB\)*)
          if [ "$tty" = 1 ]; then printf '\r\033[K' >&2; fi
          echo "setup:   downloading ${line##*Downloading }" >&2
          ;;
        "Installing collected packages:"*)
          if [ "$tty" = 1 ]; then printf '\r\033[K' >&2; fi
          count=$(($(printf '%s' "$line" | tr -cd ',' | wc -c) + 1))
          echo "setup: installing $count packages (unpacking torch takes most of it)..." >&2
          ;;
      esac
    else
      status=$?
      [ "$status" -gt 128 ] || break # end of pip's output; a timeout is above 128
      if [ "$tty" = 1 ]; then printf '\r\033[K' >&2; fi
      echo "setup:   still working, $((SECONDS - start)) s so far" >&2
    fi
  done
  if [ "$tty" = 1 ]; then printf '\r\033[K' >&2; fi
  return 0
}

echo "setup: finding and downloading the pinned packages (torch $torch_version, CPU build; pip's log: $log)..." >&2
: >"$log"
# Every package goes through constraints.txt: torch stays at the pinned CPU build, never a newer CUDA one.
if ! PYTHONUNBUFFERED=1 "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
  -c constraints.txt -e ".[test]" 2>&1 | progress; then
  tail -n 30 "$log" >&2
  echo "setup: pip install failed; full log in $log" >&2
  exit 1
fi
echo "setup: compiling the package's bytecode" >&2
compile_package
echo "$want" >"$stamp"
echo "setup: done in $((SECONDS - start)) s ($(du -sh "$venv" 2>/dev/null | cut -f1) in $venv)" >&2
