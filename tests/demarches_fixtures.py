"""Exports of a DETR/DSIL démarche of Démarches numériques, built as its export code
writes them (see the docstring of db/demarches/reader.py for the sources): sheets
Dossiers, Etablissements, Avis and one per repeatable block in xlsx and ods, the
Dossiers sheet alone (with the établissement's columns) in csv.

The dossiers are those of communes and EPCI of the arrondissement of
Avesnes-sur-Helpe (591), with their real COG codes and SIREN; the SIRETs are the
SIREN followed by a made-up NIC. Traps: labels that look alike (« Taux DETR
sollicité », « Catégorie prioritaire DETR », « Dotation(s) sollicitée(s) »), blank
numbers written 0, date fields as text, an EPCI as applicant, a commune typed with
its postal code.
"""

from __future__ import annotations

import csv
import gzip
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROCEDURE = "dotations-detr-dsil-2025-nord"
FILE_STEM = f"dossiers_{PROCEDURE}_2025-02-03_09-15"
LATER_STEM = f"dossiers_{PROCEDURE}_2025-05-20_16-40"
REPETITION_SHEET = "(4127) Plan de financement"[:30]

FIXED = ["ID", "Email", "FranceConnect ?", "Entreprise raison sociale", "À archiver",
         "État du dossier", "Dernière mise à jour le", "Dernière mise à jour du dossier le",
         "Déposé le", "Passé en instruction le", "Traité le", "Motivation de la décision",
         "Instructeurs", "Groupe instructeur"]
# The csv writes the dossier's établissement instead of « Entreprise raison sociale ».
CSV_ETABLISSEMENT = [
    "Établissement SIRET", "Établissement siège social", "Établissement NAF",
    "Établissement libellé NAF", "Établissement Adresse", "Établissement numero voie",
    "Établissement type voie", "Établissement nom voie", "Établissement complément adresse",
    "Établissement code postal", "Établissement localité",
    "Établissement code INSEE localité", "Entreprise SIREN", "Entreprise capital social",
    "Entreprise numero TVA intracommunautaire", "Entreprise forme juridique",
    "Entreprise forme juridique code", "Entreprise nom commercial",
    "Entreprise raison sociale", "Entreprise SIRET siège social",
    "Entreprise code effectif entreprise", "Entreprise date de création",
    "Entreprise état administratif", "Entreprise nom", "Entreprise prénom",
    "Association RNA", "Association titre", "Association objet",
    "Association date de création", "Association date de déclaration",
    "Association date de publication"]
FORM = ["SIRET/SIREN du demandeur", "Arrondissement du demandeur (59 - Nord)",
        "Nom et qualité du signataire", "Intitulé du projet", "Commune(s) du projet",
        "Commune(s) du projet (Code INSEE)", "Commune(s) du projet (Département)",
        "Description du projet", "Coût total HT", "Dotation(s) sollicitée(s)",
        "Montant DETR sollicité", "Taux DETR sollicité", "Montant DSIL sollicité",
        "Date prévisionnelle de début des travaux",
        "Date prévisionnelle de fin des travaux",
        "Le projet a-t-il reçu un commencement d'exécution ?",
        # private annotations
        "Catégorie prioritaire DETR", "Avis de l'instructeur", "Montant DETR attribué",
        "Montant DSIL attribué"]
ETABLISSEMENTS = ["Dossier ID", "Champ", "Établissement SIRET", "Etablissement enseigne",
                  "Établissement siège social", "Établissement NAF",
                  "Établissement libellé NAF", "Établissement Adresse",
                  "Établissement code postal", "Établissement localité",
                  "Établissement code INSEE localité", "Entreprise SIREN",
                  "Entreprise forme juridique", "Entreprise raison sociale"]
AVIS = ["Dossier ID", "Introduction", "Réponse", "Question", "Réponse oui/non", "Créé le",
        "Répondu le", "Instructeur", "Expert"]
REPETITION = ["Dossier ID", "Ligne", "Financeur", "Montant"]
STATE_LABELS = {"en_construction": "En construction", "en_instruction": "En instruction",
                "accepte": "Accepté", "refuse": "Refusé", "sans_suite": "Classé sans suite"}
PROJECTS = ["Rénovation énergétique de l'école {}", "Réfection de la toiture de l'église",
            "Aménagement de la traverse du centre-bourg", "Mise en accessibilité de la mairie",
            "Construction d'une salle multisports", "Extension du groupe scolaire",
            "Création d'une maison de santé pluriprofessionnelle",
            "Réhabilitation de la salle des fêtes", "Travaux de voirie rue {}",
            "Installation d'une chaufferie bois", "Sécurisation des abords de l'école",
            "Création d'une médiathèque"]
STREETS = ["Jean Jaurès", "de la République", "Victor Hugo", "Pasteur", "du Général de Gaulle"]
EPCI = {"200043396": ("CA Maubeuge Val de Sambre", "59392"),
        "200043404": ("CC du Sud Avesnois", "59249"),
        "200043263": ("CC Coeur de l'Avesnois", "59036"),
        "200043321": ("CC du Pays de Mormal", "59331")}


@dataclass
class Dossier:
    number: int
    siren: str  # of the applicant: a commune or an EPCI
    applicant: str  # « COMMUNE DE MAUBEUGE », as the INSEE directory names it
    commune: str  # INSEE code of the project's commune
    commune_name: str
    postal_code: str
    title: str
    cost: float
    detr: float = 0.0
    dsil: float = 0.0
    state: str = "en_construction"
    deposited: datetime = datetime(2025, 1, 10, 9, 30)
    instructed: datetime | None = None
    processed: datetime | None = None
    start: str = "2025-06-01"
    end: str = "2026-06-30"
    granted_detr: float = 0.0
    granted_dsil: float = 0.0
    motivation: str = ""
    cofinancing: list[tuple[str, float]] = field(default_factory=list)

    @property
    def siret(self) -> str:
        return f"{self.siren}00019"

    @property
    def updated(self) -> datetime:
        return max(t for t in (self.deposited, self.instructed, self.processed) if t)


def communes_591() -> list[tuple[str, str, str, str]]:
    """(code, name, siren, first postal code) of the communes of the arrondissement."""
    with gzip.open(ROOT / "resources/cog/2026/communes.csv.gz", "rt", encoding="utf-8") as f:
        return [(r["code"], r["nom"], r["siren"], r["codes_postaux"].split()[0])
                for r in csv.DictReader(f, delimiter=";") if r["arrondissement"] == "591"]


def dossiers(count: int = 12, seed: int = 12) -> list[Dossier]:
    """*count* dossiers in every state; the first ones are always the same."""
    rng = random.Random(seed)
    communes = communes_591()
    by_code = {c[0]: c for c in communes}
    states = ["en_construction", "en_instruction", "en_instruction", "accepte", "refuse",
              "sans_suite"]
    found = []
    for index in range(count):
        number = 21045301 + index * 37
        if index % 9 == 4:  # an EPCI applies
            siren = list(EPCI)[index % len(EPCI)]
            name, code = EPCI[siren]
            applicant = name.upper()
        else:
            code, _, siren, _ = communes[(index * 7) % len(communes)]
            applicant = f"COMMUNE DE {by_code[code][1].upper()}"
        _, commune_name, _, postal = by_code[code]
        from db.text import elide

        title = PROJECTS[index % len(PROJECTS)].format(
            rng.choice(STREETS) if "rue" in PROJECTS[index % len(PROJECTS)]
            else elide("de", commune_name))
        cost = float(rng.randrange(40_000, 1_800_000, 500))
        detr = round(cost * rng.choice((0.25, 0.3, 0.35, 0.4)), 2)
        dsil = round(cost * 0.2, 2) if index % 4 == 1 else 0.0
        state = states[index % len(states)]
        deposited = datetime(2024, 11, 4, 8, 0) + timedelta(days=index % 70, minutes=index * 13)
        dossier = Dossier(number, siren, applicant, code, commune_name, postal, title, cost,
                          detr, dsil, state, deposited)
        if state != "en_construction":
            dossier.instructed = deposited + timedelta(days=12, hours=3)
        if state in ("accepte", "refuse", "sans_suite"):
            dossier.processed = deposited + timedelta(days=40, hours=5)
        if state == "accepte" and index % 2:
            dossier.granted_detr = round(detr * 0.9, 2)
        if state == "refuse":
            dossier.motivation = "Projet non éligible aux catégories prioritaires 2025."
        # The plan repeats the State's dotations and the owner's share (not lines).
        dossier.cofinancing = [("DETR", detr), ("Département du Nord", round(cost * 0.2, 2)),
                               ("Autofinancement", round(cost - detr - dsil - cost * 0.2, 2))]
        if dsil:
            dossier.cofinancing.insert(1, ("DSIL", dsil))
        found.append(dossier)
    return found


def later(first: list[Dossier]) -> list[Dossier]:
    """The same démarche in May: decisions taken, a request corrected, a title fixed,
    one dossier more."""
    result = [replace(d) for d in first]
    processed = datetime(2025, 4, 28, 14, 0)
    # dossier 2 (index 1, en instruction) accepted with its DETR amount decided
    result[1] = replace(result[1], state="accepte", processed=processed,
                        granted_detr=round(result[1].detr * 0.8, 2))
    # dossier 3 (index 2, en instruction) refused
    result[2] = replace(result[2], state="refuse", processed=processed,
                        motivation="Enveloppe épuisée.")
    # dossier 1 (index 0, en construction): the applicant corrected the amount asked
    result[0] = replace(result[0], detr=round(result[0].detr + 10_000, 2),
                        title=result[0].title + " (tranche 1)")
    communes = communes_591()
    code, name, siren, postal = communes[-3]
    result.append(Dossier(result[-1].number + 1000, siren, f"COMMUNE DE {name.upper()}",
                          code, name, postal, "Réfection du pont de la Sambre", 320_000.0,
                          96_000.0, 0.0, "en_construction", datetime(2025, 5, 2, 11, 5)))
    return result


# --- Writing ----------------------------------------------------------------------------

def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _form(d: Dossier) -> list:
    dotations = ", ".join(x for x, amount in (("DETR", d.detr), ("DSIL", d.dsil)) if amount)
    commune = f"{d.commune_name} ({d.postal_code})"
    return [d.siret, "Avesnes-sur-Helpe", "Le maire", d.title, commune, d.commune,
            "59 – Nord", f"Projet porté par {d.applicant.title()}.", _number(d.cost),
            dotations, _number(d.detr),
            _number(round(d.detr / d.cost * 100, 2)) if d.detr else 0, _number(d.dsil),
            d.start, d.end, "Non", "Catégorie 2 : bâtiments scolaires",
            "Favorable" if d.state == "accepte" else "", _number(d.granted_detr),
            _number(d.granted_dsil)]


def _fixed(d: Dossier, with_etablissement: bool, time) -> list:
    head = [str(d.number), f"mairie{d.number % 97}@example.fr", False]
    if with_etablissement:
        head += [d.siret, True, "84.11Z", "Administration publique générale",
                 f"Hôtel de ville {d.postal_code} {d.commune_name.upper()}", "1", "PL",
                 "de l'Hôtel de Ville", "", d.postal_code, d.commune_name.upper(), d.commune,
                 d.siren, "", f"FR{d.siren}", "Commune et commune nouvelle", "7210", "",
                 d.applicant, d.siret, "", "", "Actif", "", "", "", "", "", "", "", ""]
    else:
        head += [d.applicant]
    return head + [False, STATE_LABELS[d.state], time(d.updated), time(d.updated),
                   time(d.deposited), time(d.instructed), time(d.processed),
                   d.motivation or None, "pref-instructeur@nord.gouv.fr",
                   "Arrondissement d'Avesnes-sur-Helpe"]


def _sheets(items: list[Dossier], time) -> dict[str, tuple[list[str], list[list]]]:
    dossiers_rows = [_fixed(d, False, time) + _form(d) for d in items]
    etablissements = [[str(d.number), "SIRET/SIREN du demandeur", d.siret, "", True,
                       "84.11Z", "Administration publique générale",
                       f"Hôtel de ville {d.postal_code} {d.commune_name.upper()}",
                       d.postal_code, d.commune_name.upper(), d.commune, d.siren,
                       "Commune et commune nouvelle", d.applicant] for d in items]
    avis = [[str(d.number), "Votre avis sur ce projet ?", "Avis favorable de la DDTM",
             None, None, time(d.deposited + timedelta(days=20)),
             time(d.deposited + timedelta(days=25)), "pref-instructeur@nord.gouv.fr",
             "ddtm-59@example.fr"] for d in items if d.state != "en_construction"]
    repetition = [[str(d.number), index + 1, name, _number(amount)]
                  for d in items for index, (name, amount) in enumerate(d.cofinancing)]
    return {"Dossiers": (FIXED + FORM, dossiers_rows),
            "Etablissements": (ETABLISSEMENTS, etablissements), "Avis": (AVIS, avis),
            REPETITION_SHEET: (REPETITION, repetition)}


def write_xlsx(path: Path, items: list[Dossier]) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                           "strings_to_formulas": False})
    header = book.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#000000"})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for name, (labels, rows) in _sheets(items, lambda t: t).items():
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, labels, header)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, stamp)
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path


def write_ods(path: Path, items: list[Dossier]) -> Path:
    import pandas as pd

    with pd.ExcelWriter(path, engine="odf") as writer:
        for name, (labels, rows) in _sheets(items, lambda t: t).items():
            pd.DataFrame(rows, columns=labels).to_excel(writer, sheet_name=name, index=False)
    return path


def write_csv(path: Path, items: list[Dossier]) -> Path:
    """As SpreadsheetArchitect writes it: commas, Rails' times, ``false`` for booleans."""
    def time(value: datetime | None) -> str | None:
        return value.strftime("%Y-%m-%d %H:%M:%S +0100") if value else None

    def cell(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return repr(value)
        return str(value)

    labels = FIXED[:3] + CSV_ETABLISSEMENT + FIXED[4:] + FORM
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(labels)
        for d in items:
            out.writerow([cell(v) for v in _fixed(d, True, time) + _form(d)])
    return path


WRITERS = {"xlsx": write_xlsx, "ods": write_ods, "csv": write_csv}


def export(folder: Path, fmt: str, items: list[Dossier], stem: str = FILE_STEM) -> Path:
    return WRITERS[fmt](folder / f"{stem}.{fmt}", items)
