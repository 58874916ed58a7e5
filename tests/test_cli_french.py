"""Everything the command line says is French: argparse's own words, the help, errors,
`check`, the état's selection line, `verify` (naming each changed record), elision of
place names, and no library warning on the agent's terminal.

The commands run as real processes (``main.py`` in a subprocess) on a base made by
``main.py demo``; their output and the PDFs they write are read back.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from db.text import commune_organisation_name, elide, with_article
from desktop.views import EDITOR_VIEWS, VIEWS

ROOT = Path(__file__).resolve().parents[1]

# What an English-speaking argparse, driver or library would have printed.
ENGLISH = re.compile(
    r"\b(usage|error|Error|warning|Warning|WARNING|positional|optional arguments|"
    r"show this help|the following arguments|required|invalid choice|choose from|"
    r"unrecognized|expected|Traceback|Errno|No such file|Is a directory|does not exist|"
    r"failed|connection|refused|EOF marker|invalid pdf header|Stream has ended|"
    r"Zip archive|supprimé\(e\))\b|options:|\{[a-z_]+,[a-z_]+")


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def english_in(text: str) -> list[str]:
    return [m.group(0) for m in ENGLISH.finditer(text)]


def pdf_text(path: Path) -> str:
    return re.sub(r"[\u00a0\u202f\s]+", " ", "\n".join(
        page.extract_text() for page in PdfReader(str(path)).pages))


@pytest.fixture(scope="module")
def demo_made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo_cli") / "demo.sqlite"
    made = run("demo", "--db", str(path))
    assert made.returncode == 0, made.stderr
    assert made.stderr == ""
    assert "de l'arrondissement d'Avesnes-sur-Helpe" in made.stdout
    assert english_in(made.stdout) == []
    return path


@pytest.fixture
def base(demo_made: Path, tmp_path: Path) -> Path:
    path = tmp_path / "base.sqlite"
    shutil.copyfile(demo_made, path)
    return path


# --- Elision ----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("Avesnes-sur-Helpe", "d'Avesnes-sur-Helpe"),  # vowel
    ("Yssingeaux", "d'Yssingeaux"),
    ("Étrœungt", "d'Étrœungt"),  # accented capital
    ("Évreux", "d'Évreux"),
    ("Œuilly", "d'Œuilly"),  # ligature
    ("Hazebrouck", "d'Hazebrouck"),  # h muet, by established usage
    ("Hénin-Beaumont", "d'Hénin-Beaumont"),
    ("Hautmont", "de Hautmont"),  # h aspiré
    ("Haguenau-Wissembourg", "de Haguenau-Wissembourg"),
    ("Hon-Hergies", "de Hon-Hergies"),
    ("Maubeuge", "de Maubeuge"),  # consonant
    ("Le Quesnoy", "du Quesnoy"),
    ("Les Lilas", "des Lilas"),
    ("La Longueville", "de La Longueville"),
    ("L'Isle-Adam", "de L'Isle-Adam"),
    ("59 Nord", "de 59 Nord"),
])
def test_elide_after_de(name, expected):
    assert elide("de", name) == expected


def test_elide_after_a_and_after_an_article():
    assert elide("à", "Le Cateau-Cambrésis") == "au Cateau-Cambrésis"
    assert elide("à", "Les Mureaux") == "aux Mureaux"
    assert elide("à", "Avesnes-sur-Helpe") == "à Avesnes-sur-Helpe"
    assert elide("de", with_article("État")) == "de l'État"
    assert elide("de", with_article("Département du Nord")) == "du Département du Nord"
    assert elide("de", with_article("Région Hauts-de-France")) == "de la Région Hauts-de-France"
    assert elide("de", with_article("ADEME")) == "de l'ADEME"
    assert elide("de", with_article("Banque des Territoires")) == "de la Banque des Territoires"
    assert commune_organisation_name("Œuilly") == "Commune d'Œuilly"
    assert commune_organisation_name("Le Quesnoy") == "Commune du Quesnoy"
    assert commune_organisation_name("Hautmont") == "Commune de Hautmont"


def test_signing_place_is_elided():
    from printouts.pdf import place_and_date

    assert place_and_date("Le Quesnoy", date(2025, 2, 3)) == "Fait au Quesnoy, le 3 février 2025"
    assert place_and_date("Avesnes-sur-Helpe", None).startswith("Fait à Avesnes-sur-Helpe, le ")


# --- Help and argparse's own words ------------------------------------------------------

def test_help_is_french_and_lists_every_page():
    result = run("--help")
    assert result.returncode == 0 and result.stderr == ""
    text = result.stdout
    assert english_in(text) == []
    assert text.startswith("utilisation : main.py")
    assert "options :" in text and "commandes :" in text
    assert "affiche cette aide et quitte" in text
    for key, label, _description in VIEWS:
        assert re.search(rf"^  {key} +{label} : ", text, re.MULTILINE), key
    for kind in EDITOR_VIEWS:
        assert f"{kind}:RÉF" in text
    # the window's navigation reads the same list
    from desktop.list_pages import NAVIGATION

    assert NAVIGATION == [(key, label) for key, label, _ in VIEWS]


@pytest.mark.parametrize("command", ["demo", "print", "import", "verify", "check"])
def test_help_of_each_command_is_french(command):
    result = run(command, "--help")
    assert result.returncode == 0 and result.stderr == ""
    assert english_in(result.stdout) == [], result.stdout
    assert result.stdout.startswith(f"utilisation : main.py {command}")
    assert "--db BASE" in result.stdout


@pytest.mark.parametrize(("args", "expected"), [
    (["check"], "main.py check : erreur : arguments obligatoires manquants : --db"),
    (["print"], "arguments obligatoires manquants : DOCUMENT, --db, -o/--output"),
    (["bogus"], "argument COMMANDE : choix invalide : « bogus »"),
    (["print", "lettre", "--db", "x", "-o", "x.pdf"],
     "argument DOCUMENT : choix invalide : « lettre »"),
    (["--view", "nulle-part"], "argument --view : vue inconnue « nulle-part »"),
    (["--view", "contract:X/onglet"], "vue inconnue « contract:X/onglet »"),
    (["print", "list", "--db", "x", "-o", "x.pdf", "--year", "deux"],
     "argument --year : « deux » n'est pas une année"),
    (["print", "list", "--db", "x", "-o", "x.pdf", "--status", "bof"],
     "argument --status : statut inconnu « bof » (statuts : projet, déposé"),
    (["check", "--db", "x", "--en-trop"], "arguments non reconnus : --en-trop"),
])
def test_argument_errors_are_french(args, expected):
    result = run(*args)
    assert result.returncode == 2
    assert expected in result.stderr, result.stderr
    assert result.stderr.startswith("utilisation : main.py")
    assert english_in(result.stderr) == [], result.stderr


def test_every_page_is_accepted_by_view():
    from main import _view

    for key, _label, _description in VIEWS:
        assert _view(key) == key
    assert _view("operation:FICTIF-DETR-2025-013/plan") == "operation:FICTIF-DETR-2025-013/plan"
    assert _view("contract:nouveau") == "contract:nouveau"


# --- check ------------------------------------------------------------------------------

def test_check_speaks_french(demo_made):
    result = run("check", "--db", str(demo_made))
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Base : {demo_made} (")
    assert re.fullmatch(r"Révision du schéma : \w+ \(attendue : \w+\)", lines[1])
    assert "Intégrité SQLite : correcte" in lines
    for label in ("contrats", "opérations", "lignes de financement", "versements",
                  "organisations", "communes", "arrondissements", "EPCI",
                  "coût des opérations", "accordé", "versé"):
        assert any(line.startswith(f"  {label} : ") for line in lines), label
    assert lines[-1] == "Aucun problème détecté."
    assert english_in(result.stdout) == []

    as_json = run("check", "--db", str(demo_made), "--json")
    report = json.loads(as_json.stdout)
    assert report["healthy"] is True and report["problems"] == []
    assert report["counts"]["contracts"] == 38


def test_check_names_a_problem_in_french_amounts(base):
    with sqlite3.connect(base) as connection:  # a damage no service would make
        connection.execute("UPDATE payment SET amount_cents = amount_cents + 100000000 WHERE id = "
                           "(SELECT id FROM payment ORDER BY id LIMIT 1)")
    result = run("check", "--db", str(base))
    assert result.returncode == 1
    problems = [line for line in result.stderr.splitlines() if line.startswith("Problème : ")]
    assert problems and all(english_in(line) == [] for line in problems)
    assert re.search(r"versements \(\d[\d\u202f\u00a0 ]*,\d\d\s€\) supérieurs au montant "
                     r"accordé \(\d[\d\u202f\u00a0 ]*,\d\d\s€\)", result.stderr), result.stderr


# --- Errors on the command line ----------------------------------------------------------

def test_error_paths_are_french(demo_made, tmp_path):
    garbage = tmp_path / "pas-une-base.sqlite"
    garbage.write_text("bonjour")
    not_a_book = tmp_path / "classeur.xlsx"
    not_a_book.write_text("bonjour")
    cases = [
        (["check", "--db", str(tmp_path / "absente.sqlite")], "n'existe pas"),
        (["check", "--db", str(tmp_path)], "est un dossier"),
        (["check", "--db", str(garbage)], "n'est pas une base de données"),
        (["check", "--db", "postgresql://postgres@127.0.0.1:5432/ct_base_absente_x"],
         "la base « ct_base_absente_x » n'existe pas sur le serveur"),
        (["check", "--db", "postgresql://postgres@127.0.0.1:1/x"],
         "aucun serveur ne répond à l'adresse 127.0.0.1, port 1"),
        (["print", "annex", "--db", str(demo_made), "-o", str(tmp_path / "a.pdf")],
         "Précisez --contract RÉF"),
        (["print", "annex", "--db", str(demo_made), "-o", str(tmp_path / "a.pdf"),
          "--contract", "INCONNU"], "Contrat introuvable : « INCONNU »"),
        (["print", "list", "--db", str(demo_made), "-o", str(tmp_path / "a.pdf"),
          "--commune", "99999", "--scheme", "NIMPORTE"],
         "Commune inconnue (code INSEE) : « 99999 »."),
        (["print", "plan", "--db", str(demo_made), "--operation", "FICTIF-DETR-2025-013",
          "-o", str(tmp_path / "absent" / "plan.pdf")], "n'existe pas : le document n'a pas"),
        (["print", "plan", "--db", str(demo_made), "--operation", "FICTIF-DETR-2025-013",
          "-o", str(tmp_path)], "est un dossier : donnez le nom du fichier PDF"),
        (["import", str(tmp_path / "absent.xlsx"), "--db", str(demo_made)],
         "Fichier introuvable"),
        (["import", str(not_a_book), "--db", str(demo_made), "--dry-run"],
         "n'est pas un classeur lisible (fichier endommagé ou d'un autre format)"),
        (["verify", str(tmp_path / "absent.pdf"), "--db", str(demo_made)], "n'existe pas"),
        (["verify", str(tmp_path), "--db", str(demo_made)], "est un dossier"),
        (["verify", str(garbage), "--db", str(demo_made)], "n'est pas un document PDF"),
    ]
    for args, expected in cases:
        result = run(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("Erreur : "), (args, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
        assert english_in(result.stderr) == [], (args, result.stderr)
    assert "Dispositif inconnu : « NIMPORTE »" in run(
        "print", "list", "--db", str(demo_made), "-o", str(tmp_path / "a.pdf"),
        "--scheme", "NIMPORTE").stderr


# --- The état's selection line -------------------------------------------------------------

def test_etat_selection_line_names_every_filter(demo_made, tmp_path):
    output = tmp_path / "etat.pdf"
    result = run("print", "list", "--db", str(demo_made), "-o", str(output),
                 "--arrondissement", "591", "--status", "programmé", "--scheme", "DETR",
                 "--commune", "59392", "--epci", "200043396", "--contract-type", "CRTE",
                 "--year", "2025", "--search", "école")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    text = pdf_text(output)
    selection = text[text.index("Sélection : "):text.index("Montants accordés")]
    for phrase in ("Arrondissement : Avesnes-sur-Helpe (591)", "Statut : programmé",
                   "Dispositif : DETR", "Commune : Maubeuge (59392)",
                   "EPCI : CA Maubeuge Val de Sambre (200043396)",
                   "Type de contrat : contrat de relance et de transition écologique (CRTE)",
                   "Exercice : 2025", "Recherche : « école »"):
        assert phrase in selection, (phrase, selection)
    assert not re.search(r"\b(scheme|status|commune|epci|year|search|contract_type)\s*=",
                         selection)
    assert "Sous-préfecture d'Avesnes-sur-Helpe" in text


# --- verify ---------------------------------------------------------------------------------

def _print(base: Path, tmp_path: Path, name: str, *args: str) -> Path:
    output = tmp_path / name
    result = run("print", *args, "--db", str(base), "-o", str(output))
    assert result.returncode == 0, result.stderr
    return output


def _change_the_base(base: Path) -> None:
    """What agents do after a print: a cost corrected, an operation deleted, a funding
    line and two payments added (through the services, as the editor does)."""
    from sqlalchemy import select

    from db.database import open_database
    from db.editing import find_by_reference, operation_for_edit
    from db.models import Operation, Organisation
    from db.services.operations import (
        FundingLineData,
        PaymentData,
        delete_operation,
        save_operation,
    )
    from db.vocabulary import PaymentKind

    database = open_database(base)
    try:
        data = operation_for_edit(database, find_by_reference(database, "operation",
                                                              "FICTIF-DETR-2025-005"))
        data.cost_ht += Decimal("10000.00")
        save_operation(database, data)
        data = operation_for_edit(database, find_by_reference(database, "operation",
                                                              "FICTIF-DETR-2025-001"))
        with database.read() as session:
            region = session.scalar(select(Organisation.id)
                                    .where(Organisation.name.like("Région Hauts-de-France%")))
        data.funding_lines.append(FundingLineData(region, None, Decimal("5000.00")))
        save_operation(database, data)
        data = operation_for_edit(database, find_by_reference(database, "operation",
                                                              "FICTIF-DETR-2025-013"))
        line = next(line for line in data.funding_lines if line.scheme_code == "DETR")
        line.payments += [PaymentData(PaymentKind.INSTALMENT, date(2026, 1, 15),
                                      Decimal("100.00")),
                          PaymentData(PaymentKind.INSTALMENT, date(2026, 2, 15),
                                      Decimal("200.00"))]
        save_operation(database, data)
        deleted = find_by_reference(database, "operation", "FICTIF-DETR-2025-012")
        with database.read() as session:
            version = session.get(Operation, deleted).version
        delete_operation(database, deleted, version)
    finally:
        database.close()


def test_verify_names_each_changed_record(base, tmp_path):
    annex = _print(base, tmp_path, "annexe.pdf", "annex", "--contract", "FICTIF-CRTE-591")
    etat = _print(base, tmp_path, "etat.pdf", "list", "--arrondissement", "591",
                  "--scheme", "DETR")
    for document in (annex, etat):
        same = run("verify", str(document), "--db", str(base))
        assert same.returncode == 0 and "correspond à la base" in same.stdout
        assert same.stderr == ""
    _change_the_base(base)

    result = run("verify", str(etat), "--db", str(base))
    assert result.returncode == 1 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert "ne correspond plus à la base" in lines[0]
    assert lines[1] == "Depuis son édition, 4 fiches ont changé :"
    assert ("  - opération FICTIF-DETR-2025-005 « Sécurisation de la traversée du bourg » : "
            "modifiée (coût HT : 202 400,00 € → 212 400,00 €)") in [
        line.replace("\u202f", " ").replace("\u00a0", " ") for line in lines]
    assert ("  - opération FICTIF-DETR-2025-012 « Défense extérieure contre l'incendie » : "
            "supprimée") in lines
    assert ("  - opération FICTIF-DETR-2025-001 « Rénovation énergétique de l'école "
            "élémentaire » : modifiée (1 financement ajouté)") in lines
    assert ("  - opération FICTIF-DETR-2025-013 « Création d'une aire de jeux et d'un "
            "city-stade » : modifiée (2 versements ajoutés)") in lines
    assert english_in(result.stdout) == []

    result = run("verify", str(annex), "--db", str(base))
    assert result.returncode == 1 and result.stderr == ""
    text = result.stdout.replace("\u202f", " ").replace("\u00a0", " ")
    assert ("  - financement de la Région Hauts-de-France (Conseil régional) (opération "
            "FICTIF-DETR-2025-001) : ajouté") in text
    # two payments of one operation: one line, each named
    assert ("  - 2 versements de l'opération FICTIF-DETR-2025-013 : ajoutés — acompte de "
            "100,00 € du 15/01/2026 ; acompte de 200,00 € du 15/02/2026") in text
    assert "modifiée (coût HT : 202 400,00 € → 212 400,00 €)" in text
    assert "supprimé(e)" not in text and "version" not in text
    assert english_in(text) == []


def test_verify_names_a_payment_removed_from_the_plan(base, tmp_path):
    """A payment taken out of the plan in the editor (not deleted on its own): the
    audit trail must still know it and its operation, so « verify » names both."""
    from sqlalchemy import select

    from db.database import open_database
    from db.editing import operation_for_edit
    from db.models import FundingLine, Operation, Payment
    from db.services.operations import save_operation

    database = open_database(base)
    try:
        with database.read() as session:
            operation_id, reference = session.execute(
                select(Operation.id, Operation.reference)
                .join(FundingLine, FundingLine.operation_id == Operation.id)
                .join(Payment, Payment.funding_line_id == FundingLine.id)
                .order_by(Operation.reference).limit(1)).one()
    finally:
        database.close()
    etat = _print(base, tmp_path, "etat.pdf", "list", "--arrondissement", "591")
    database = open_database(base)
    try:
        data = operation_for_edit(database, operation_id)
        line = next(line for line in data.funding_lines if line.payments)
        line.payments.pop()
        save_operation(database, data)
    finally:
        database.close()
    result = run("verify", str(etat), "--db", str(base))
    assert result.returncode == 1 and result.stderr == ""
    text = result.stdout.replace("\u202f", " ").replace("\u00a0", " ")
    said = [line for line in text.splitlines() if reference in line]
    assert said, text
    assert any("versement supprimé" in line for line in said), said


def test_verify_against_another_base_says_so_in_one_sentence(base, demo_made, tmp_path):
    annex = _print(base, tmp_path, "annexe.pdf", "annex", "--contract", "FICTIF-CRTE-591")
    other = tmp_path / "autre.sqlite"
    assert run("demo", "--db", str(other)).returncode == 0
    result = run("verify", str(annex), "--db", str(other))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    assert re.fullmatch(r"Aucune des \d+ fiches du document \(1 contrat, 15 opérations, "
                        r"\d+ financements, \d+ versements, \d+ signataires, 1 avenant\) n'est "
                        r"ni dans cette base ni dans son historique : il a sans doute été "
                        r"édité depuis une autre base, ou cette base a été recréée depuis\.",
                        lines[1]), lines[1]


def test_verify_of_a_damaged_pdf_is_french(demo_made, tmp_path):
    annex = _print(demo_made, tmp_path, "annexe.pdf", "annex", "--contract", "FICTIF-CRTE-591")
    content = annex.read_bytes()
    broken = tmp_path / "xref.pdf"  # the table of contents points nowhere: pypdf repairs it
    broken.write_bytes(content[:content.rindex(b"startxref")] + b"startxref\n123\n%%EOF\n")
    result = run("verify", str(broken), "--db", str(demo_made))
    assert result.returncode == 0, result.stderr
    assert "correspond à la base" in result.stdout
    assert result.stderr == ("Attention : le fichier PDF est abîmé (modifié ou mal copié après "
                             "son édition) ; son empreinte a pu être lue.\n")
    cut = tmp_path / "coupe.pdf"
    cut.write_bytes(content[:20000])
    result = run("verify", str(cut), "--db", str(demo_made))
    assert result.returncode == 2
    assert result.stderr == (f"Erreur : Le document {cut} est endommagé ou incomplet (copie "
                             "interrompue, fichier tronqué ?) : il ne peut pas être lu.\n")
    other = tmp_path / "autre.pdf"
    other.write_bytes(content.replace(b"suivi-contrats:", b"autre-chose:::"))
    result = run("verify", str(other), "--db", str(demo_made))
    assert "n'a pas été édité par l'application" in result.stderr
    assert english_in(result.stderr) == []


# --- The office identity when no arrondissement is chosen -------------------------------------

def test_header_without_arrondissement_is_never_bare(base, tmp_path):
    with sqlite3.connect(base) as connection:
        connection.execute("DELETE FROM app_setting WHERE key = 'arrondissement'")
    plan = _print(base, tmp_path, "plan.pdf", "plan", "--operation", "FICTIF-DETR-2025-013")
    first = PdfReader(str(plan)).pages[0].extract_text().splitlines()
    header = first[:first.index("RÉPUBLIQUE FRANÇAISE") + 3]
    assert "Préfecture" not in header and "Sous-préfecture" not in header, header
    assert not any(line.strip() in ("Préfecture", "Sous-préfecture") for line in first)


def test_office_from_the_data_or_the_settings(db):
    from db.documents import office
    from db.services.operations import OperationData, save_operation
    from db.services.settings import set_setting

    assert office(db).prefecture == "" and office(db).sous_prefecture == ""
    save_operation(db, OperationData(reference="OP-1", title="Voirie",
                                     commune_codes=["59392"]))
    assert (office(db).prefecture, office(db).sous_prefecture) == ("Préfecture du Nord", "")
    save_operation(db, OperationData(reference="OP-2", title="École",
                                     commune_codes=["80021"]))  # Amiens: two départements
    assert office(db).prefecture == ""
    set_setting(db, "office.prefecture", "Préfecture de la Somme")
    assert office(db).prefecture == "Préfecture de la Somme"
    set_setting(db, "arrondissement", "591")
    assert office(db).sous_prefecture == "Sous-préfecture d'Avesnes-sur-Helpe"
