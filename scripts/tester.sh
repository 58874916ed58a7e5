#!/usr/bin/env bash
# Installe ce qu'il faut puis lance le contrôle du code et toute la suite de tests.
# Les tests PostgreSQL utilisent le serveur de TEST_PG_URL
# (par défaut postgresql://postgres@127.0.0.1:5432/postgres) ; sans serveur, ils
# sont signalés « skipped » avec la raison, sauf si CI=true (ils échouent alors).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/installer.sh test
export QT_QPA_PLATFORM=offscreen
.venv/bin/python scripts/qt_platform.py
.venv/bin/python -m ruff check .
exec .venv/bin/python -m pytest "$@"
