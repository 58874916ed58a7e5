#!/usr/bin/env bash
# Installe ce qu'il faut (au premier lancement) puis ouvre l'application.
# Les arguments sont transmis à main.py (par exemple --db autre.sqlite).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/installer.sh
exec .venv/bin/python main.py "$@"
