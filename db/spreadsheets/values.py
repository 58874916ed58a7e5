"""Reading the cells of a tracking sheet as agents type them, and matching names to
the database (communes, EPCI, organisations, schemes, contracts).

A sheet of 100 000 rows holds a few thousand distinct names and amounts: every
reader here remembers what it has already read, so that each distinct cell is
parsed and matched once.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from db.database import Database
from db.models import Commune, Contract, Epci, FundingScheme, Operation, Organisation, Setting
from db.money import MAX_AMOUNT, OUT_OF_BOUNDS
from db.parsing import parse_amount, parse_date, parse_rate, within_dates
from db.spreadsheets.reading import ErrorCell
from db.text import normalize
from db.vocabulary import OrganisationKind

_CODE = re.compile(r"\d[\dAB]\d{3}")
_EXCEL_EPOCH = date(1899, 12, 30)


# --- Values as agents type them -------------------------------------------------------

def read_amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"« {value} » n'est pas un montant")
    if isinstance(value, int):
        return _bounded(Decimal(value))
    if isinstance(value, float):  # a number cell
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("cellule numérique invalide")
        if abs(value) > float(MAX_AMOUNT):
            return _bounded(Decimal(format(value, ".15g")))  # refused, the French way
        # The number the sheet shows (15 significant digits, as Excel and LibreOffice
        # keep them), not the binary value: 0,1 + 0,2 is 0,3; 1 234,565 stays itself.
        shown = Decimal(format(value, ".15g"))
        cents = shown.quantize(Decimal("0.01"))
        if cents != shown:
            raise ValueError(f"« {french_number(shown)} » est plus précis que le centime : "
                             "arrondissez la cellule au centime (le même montant saisi dans "
                             "l'application serait refusé)")
        return cents
    return parse_amount(str(value))


def _bounded(amount: Decimal) -> Decimal:
    if abs(amount) > MAX_AMOUNT:
        shown = (french_number(amount) if abs(amount) < 10 ** 21
                 else f"{amount:.2E}".replace(".", ","))  # babel cannot write 1E+30 out
        raise ValueError(f"« {shown} » : {OUT_OF_BOUNDS}")
    return amount.quantize(Decimal("0.01"))


def error_cell(cell: str) -> str:
    return (f"cellule en erreur « {cell} » dans le tableur : corrigez sa formule (elle "
            "n'est pas importée comme « non communiqué »)")


def french_number(value: Decimal) -> str:
    """``1 234,565``: every decimal kept, the French way."""
    from babel.numbers import format_decimal

    places = max(0, -value.as_tuple().exponent)
    return format_decimal(value, format="#,##0." + "0" * places if places else "#,##0",
                          locale="fr_FR")


def read_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return within_dates(value.date())
    if isinstance(value, date):
        return within_dates(value)
    if isinstance(value, int | float) and 20000 < value < 80000:  # an Excel serial number
        return _EXCEL_EPOCH + timedelta(days=int(value))
    return parse_date(str(value))


def read_year(value: Any) -> int | None:
    if value is None:
        return None
    text = str(int(value)) if isinstance(value, float) else str(value).strip()
    if re.fullmatch(r"(19|20)\d\d", text):
        return int(text)
    raise ValueError(f"« {value} » n'est pas une année")


def read_rate(value: Any) -> Decimal | None:
    return parse_rate(value)


class Remembered:
    """A reader that parses each distinct cell once: ``(value, error message)``."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.known: dict[tuple[type, Any], tuple[Any, str | None]] = {}

    def __call__(self, cell: Any) -> tuple[Any, str | None]:
        if cell is None:
            return None, None
        if cell.__class__ is ErrorCell:
            return None, error_cell(cell)
        key = (cell.__class__, cell)  # 1, 1.0 and True are equal keys of a dict
        found = self.known.get(key)
        if found is None:
            try:
                found = (self.reader(cell), None)
            except ValueError as error:
                found = (None, str(error))
            self.known[key] = found
        return found


# --- Matching names to the database ---------------------------------------------------

class Lookups:
    """Communes, EPCI, organisations, schemes and contracts, by code and by normalized name."""

    def __init__(self, db: Database) -> None:
        with db.read() as session:
            self.communes: dict[str, list[tuple[str, str | None, str]]] = {}
            self.commune_codes: set[str] = set()
            for code, name, arrondissement, departement in session.execute(
                    select(Commune.code, Commune.name, Commune.arrondissement_code,
                           Commune.departement_code)):
                self.communes.setdefault(normalize(name), []).append(
                    (code, arrondissement, departement))
                self.commune_codes.add(code)
            self.epci_names = dict(session.execute(select(Epci.code, Epci.name)).all())
            self.epcis = {normalize(name): code for code, name in self.epci_names.items()}
            self.epci_codes = set(self.epcis.values())
            self.organisations: dict[str, tuple[uuid.UUID, str]] = {}
            for org_id, name, acronym, kind in session.execute(
                    select(Organisation.id, Organisation.name, Organisation.acronym,
                           Organisation.kind)):
                self.organisations.setdefault(normalize(name), (org_id, kind))
                if acronym:
                    self.organisations.setdefault(normalize(acronym), (org_id, kind))
            self.schemes: dict[str, str] = {}
            self.scheme_objects: dict[str, FundingScheme] = {}
            for scheme in session.scalars(select(FundingScheme)):
                self.schemes[normalize(scheme.code)] = scheme.code
                self.schemes[normalize(scheme.label)] = scheme.code
                if scheme.short_label:  # what the lists and exports write
                    self.schemes.setdefault(normalize(scheme.short_label), scheme.code)
                self.scheme_objects[scheme.code] = scheme
                session.expunge(scheme)
            self.contracts = {normalize(ref): cid for cid, ref in
                              session.execute(select(Contract.id, Contract.reference))}
            self.references = set(session.scalars(select(Operation.reference)))
            arrondissement = session.get(Setting, "arrondissement")
            self.arrondissement = arrondissement.value if arrondissement else None
        self.departement = next(
            (c[2] for found in self.communes.values() for c in found
             if c[1] == self.arrondissement), None) if self.arrondissement else None
        self._communes: dict[str, tuple[str | None, str | None]] = {}

    def commune(self, text: str) -> tuple[str | None, str | None]:
        """(code, error message); a name shared by several communes is taken in the
        agent's arrondissement, then in its département, else refused as ambiguous."""
        found = self._communes.get(text)
        if found is None:
            found = self._communes[text] = self._commune(text)
        return found

    def _commune(self, text: str) -> tuple[str | None, str | None]:
        value = text.strip()
        if _CODE.fullmatch(value.upper()):
            code = value.upper()
            return (code, None) if code in self.commune_codes else (
                None, f"code INSEE inconnu : {value}")
        found = self.communes.get(normalize(value), [])
        if len(found) > 1 and self.arrondissement:
            found = ([c for c in found if c[1] == self.arrondissement]
                     or [c for c in found if c[2] == self.departement] or found)
        if len(found) == 1:
            return found[0][0], None
        if not found:
            return None, (f"commune inconnue : « {value} » (indiquez son nom exact ou son "
                          "code INSEE)")
        return None, (f"commune ambiguë : « {value} » désigne {len(found)} communes "
                      f"({', '.join(c[0] for c in found[:5])}) ; indiquez le code INSEE")


def guess_kind(name: str, lookups: Lookups) -> OrganisationKind:
    text = normalize(name)
    if text.startswith(("commune ", "ville ", "mairie ")) or text in lookups.communes:
        return OrganisationKind.COMMUNE
    if text.startswith(("communaute", "cc ", "ca ", "cu ", "metropole")) or \
            text in lookups.epcis:
        return OrganisationKind.EPCI
    if text.startswith(("departement", "conseil departemental")):
        return OrganisationKind.DEPARTEMENT
    if text.startswith(("region", "conseil regional")):
        return OrganisationKind.REGION
    if text.startswith(("etat", "prefecture", "sous prefecture", "ministere")):
        return OrganisationKind.STATE
    if text.startswith(("union europeenne", "feder", "europe")):
        return OrganisationKind.EU
    if text.startswith("association"):
        return OrganisationKind.ASSOCIATION
    return OrganisationKind.OTHER
