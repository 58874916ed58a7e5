#!/usr/bin/env bash
# Construit le paquet autonome (PyInstaller, suivi-contrats.spec) dans dist/suivi-contrats/,
# puis le vérifie hors du dossier des sources : base de démonstration, vérification,
# capture de la fenêtre, arrêté imprimé en PDF.
# Usage : bash scripts/construire.sh [--sans-verification]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# $EPOCHREALTIME and awk with a decimal point whatever the agent's locale.
LC_NUMERIC=C

verify=true
case "${1:-}" in
  "") ;;
  --sans-verification) verify=false ;;
  *) echo "Usage : bash scripts/construire.sh [--sans-verification]" >&2; exit 2 ;;
esac

fail() { echo "Échec de la construction : $*" >&2; exit 1; }

bash scripts/installer.sh || fail "l'environnement Python (.venv) n'a pas pu être préparé."
if ! .venv/bin/python -c 'import PyInstaller' 2>/dev/null; then
  echo "Installation de PyInstaller (composants « bundle » de pyproject.toml)…"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[bundle]" \
    || fail "PyInstaller n'a pas pu être installé (connexion nécessaire)."
fi

echo "Construction du paquet dans dist/suivi-contrats/ (quelques minutes)…"
started=$SECONDS
log=build/construction.log
mkdir -p build
if ! .venv/bin/python -m PyInstaller --noconfirm --log-level WARN --distpath dist \
     --workpath build/pyinstaller suivi-contrats.spec >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  fail "PyInstaller a échoué (journal complet : $log)."
fi
exe="$root/dist/suivi-contrats/suivi-contrats"
[ -x "$exe" ] || fail "l'exécutable $exe est absent."
echo "Paquet construit en $((SECONDS - started)) s : $(du -sh dist/suivi-contrats | cut -f1)."

[ "$verify" = true ] || exit 0

# Hors des sources : le paquet ne doit rien trouver par hasard dans le dossier courant.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
mkdir -m 700 "$work/run"
export XDG_RUNTIME_DIR="$work/run"
step() { echo "Vérification : $*"; }

step "base de démonstration"
"$exe" demo --db demo.sqlite >demo.log 2>&1 || { cat demo.log >&2; fail "« demo » a échoué."; }
step "contrôle de la base"
"$exe" check --db demo.sqlite >check.log 2>&1 || { cat check.log >&2; fail "« check » a échoué."; }
step "capture de la fenêtre principale"
begin=$EPOCHREALTIME
QT_QPA_PLATFORM=offscreen "$exe" --db demo.sqlite --screenshot fenetre.png >capture.log 2>&1 \
  || { cat capture.log >&2; fail "la fenêtre n'a pas pu être ouverte."; }
bundle_time=$(LC_ALL=C awk -v a="$begin" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
[ -s fenetre.png ] || fail "la capture fenetre.png est absente ou vide."
"$root/.venv/bin/python" "$root/scripts/check_screenshot.py" fenetre.png \
  || fail "la capture ne montre pas la fenêtre."
step "arrêté attributif en PDF"
"$exe" print arrete --operation FICTIF-DETR-2025-021 --db demo.sqlite -o arrete.pdf \
  >arrete.log 2>&1 || { cat arrete.log >&2; fail "l'arrêté n'a pas pu être imprimé."; }
# Lu comme un agent le lirait : le texte de l'arrêté, pas seulement un fichier.
"$root/.venv/bin/python" - arrete.pdf <<'PY' || fail "l'arrêté imprimé est incomplet."
import sys

from pypdf import PdfReader

text = " ".join(page.extract_text() or "" for page in PdfReader(sys.argv[1]).pages)
words = " ".join(text.split())
missing = [w for w in ("ARRÊTE", "FICTIF-DETR-2025-021", "euros") if w.lower() not in words.lower()]
if missing:
    print(f"Absent de l'arrêté : {', '.join(missing)}.", file=sys.stderr)
    sys.exit(1)
PY

# Même capture depuis les sources, pour comparer les temps de démarrage.
begin=$EPOCHREALTIME
QT_QPA_PLATFORM=offscreen "$root/.venv/bin/python" "$root/main.py" --db demo.sqlite \
  --screenshot sources.png >/dev/null 2>&1 || fail "la capture depuis les sources a échoué."
source_time=$(LC_ALL=C awk -v a="$begin" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
LC_ALL=C awk -v p="$bundle_time" -v s="$source_time" 'BEGIN {
  line = sprintf("Démarrage jusqu'"'"'à la capture : paquet %.1f s, sources %.1f s (rapport %.2f).", p, s, p / s)
  gsub(/\./, ",", line); sub(/,$/, ".", line); print line }'
echo "Paquet vérifié : $exe"
