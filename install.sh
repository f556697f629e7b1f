#!/bin/sh
# LDL Studio's installer for Linux and macOS: runs installer/install.py with a Python 3.10-3.13 and the same
# arguments, e.g. `./install.sh --all` (see `./install.sh --help`). Set PYTHON=/path/to/python to choose one.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python3.10; do
  [ -n "$candidate" ] || continue
  if command -v "$candidate" >/dev/null 2>&1 &&
    "$candidate" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null; then
    exec "$candidate" "$here/installer/install.py" "$@"
  fi
done
echo "install.sh: no Python 3.10-3.13 found; install one (python.org or your package manager), or set PYTHON" >&2
exit 1
