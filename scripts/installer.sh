#!/usr/bin/env bash
# Prepare the Python environment of the application in .venv (idempotent).
# Usage: scripts/installer.sh [extra]   (extra: "test" to add the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 ou plus récent est nécessaire (trouvé : $("$PYTHON" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv; then
    echo "Impossible de créer l'environnement Python : installez le paquet python3-venv" \
         "(sudo apt install python3-venv) puis relancez." >&2
    exit 1
  fi
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "test" ]; then
  .venv/bin/python -m pip install --quiet -e ".[test]"
else
  .venv/bin/python -m pip install --quiet -e .
fi
# Qt needs a few system libraries that minimal Debian/Ubuntu installs lack.
if ! QT_QPA_PLATFORM=offscreen .venv/bin/python -c "from PySide6.QtWidgets import QApplication; QApplication([])" >/dev/null 2>&1; then
  echo "Qt ne démarre pas : installez ses bibliothèques système, par exemple :" >&2
  echo "  sudo apt install libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0" >&2
  exit 1
fi
