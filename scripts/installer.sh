#!/usr/bin/env bash
# Prepare the Python environment of the application in .venv.
# Usage: scripts/installer.sh [test]   ("test" adds the test tools)
#
# pip runs only when something it installed has changed: .venv/.installation records what
# the last successful install was made from (sha256 of pyproject.toml, the Python ABI, the
# extra), so every later launch starts with no network at all and prints nothing. When an
# install is needed and fails (a laptop on a field visit), a previous working install is
# used as it is, with a warning, rather than refusing to start.
set -euo pipefail
cd "$(dirname "$0")/.."

extra=${1:-}
case "$extra" in
  "" | test) ;;
  *) echo "Usage : bash scripts/installer.sh [test]" >&2; exit 2 ;;
esac
stamp=.venv/.installation
log=.venv/installation.log
PYTHON=${PYTHON:-python3}

fresh=false
# No pip: a venv left half-made where python3-venv is missing.
if [ ! -x .venv/bin/pip ] || ! .venv/bin/python -I -S -c '' 2>/dev/null; then
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Python 3.11 ou plus récent est nécessaire (trouvé : $("$PYTHON" --version 2>&1))." >&2
    exit 1
  fi
  # --clear: a .venv whose Python no longer runs (system Python upgraded) is rebuilt.
  if ! "$PYTHON" -m venv --clear .venv; then
    echo "Impossible de créer l'environnement Python : installez le paquet python3-venv" \
         "(sudo apt install python3-venv) puis relancez." >&2
    exit 1
  fi
  fresh=true
fi

# The ABI tag (cpython-311), not the full version: a patch release of Python keeps the
# installed wheels valid and must not send a laptop looking for a network.
read -r abi digest < <(.venv/bin/python -I -S -c '
import hashlib, sys
with open("pyproject.toml", "rb") as f:
    print(sys.implementation.cache_tag, hashlib.sha256(f.read()).hexdigest())')

s_digest="" s_abi="" s_extra=""
if [ -f "$stamp" ]; then
  read -r s_digest s_abi s_extra < "$stamp" || true
fi
# A test install contains the application's install.
wanted=${extra:-base}
if [ "$s_abi" = "$abi" ] && { [ "$s_extra" = "$wanted" ] || [ "$s_extra" = test ]; }; then
  previous=true
  [ "$s_digest" = "$digest" ] && exit 0
else
  previous=false
fi
# Installs made before the stamp existed are recognised by what they installed.
if [ "$previous" = false ] && [ "$fresh" = false ] && [ -z "$s_abi" ]; then
  if .venv/bin/python -I - "$wanted" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, distribution

names = ["suivi-contrats-territoriaux"] + (["pytest"] if sys.argv[1] == "test" else [])
try:
    for name in names:
        distribution(name)
except PackageNotFoundError:
    sys.exit(1)
EOF
  then
    previous=true
  fi
fi
# Keep the test tools of a development machine when pyproject.toml changes.
[ "$s_extra" = test ] && wanted=test

target=.
[ "$wanted" = test ] && target=".[test]"
pip_options=(--quiet --disable-pip-version-check)
# With an install to fall back on, give up quickly when there is no network (through the
# environment: pip installs the build dependencies in a sub-process that reads it).
[ "$previous" = true ] && export PIP_RETRIES=${PIP_RETRIES:-1}

echo "Installation des composants de l'application dans .venv (connexion nécessaire)…"
if {
  # The pip of a new venv can be years old; once installed, it is left alone.
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install "${pip_options[@]}" --upgrade pip
  fi
  .venv/bin/python -m pip install "${pip_options[@]}" -e "$target"
} >"$log" 2>&1; then
  printf '%s %s %s\n' "$digest" "$abi" "$wanted" >"$stamp.tmp"
  mv "$stamp.tmp" "$stamp"
  exit 0
fi

if [ "$previous" = true ]; then
  echo "Attention : la mise à jour des composants a échoué (pas de connexion ?)." \
       "L'application démarre avec ceux déjà installés ; relancez avec une connexion" \
       "pour terminer la mise à jour (détails : $log)." >&2
  exit 0
fi
echo "Installation impossible : les composants de l'application n'ont pas pu être" \
     "téléchargés. Le premier lancement a besoin d'une connexion à Internet (ou au dépôt" \
     "de paquets Python du service) : connectez-vous puis relancez" \
     "bash scripts/lancer.sh. Détails : $log" >&2
exit 1
