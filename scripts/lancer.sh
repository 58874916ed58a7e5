#!/usr/bin/env bash
# Installe ce qu'il faut (au premier lancement, ou quand pyproject.toml a changé), vérifie
# les bibliothèques système de l'affichage de Qt, puis ouvre l'application.
# Les arguments sont transmis à main.py (par exemple --db autre.sqlite).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/installer.sh
# Before Qt is loaded: a missing system library would otherwise abort the process (rc 134)
# with an English message naming one library at a time.
.venv/bin/python scripts/qt_platform.py "$@"
exec .venv/bin/python main.py "$@"
