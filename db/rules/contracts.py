"""Rules on a contract: dates, envelope, avenants."""

from __future__ import annotations

from datetime import date, timedelta

from db.formatting import euros
from db.rules import texts
from db.rules.eligibility import _order
from db.rules.findings import Finding, add_months, day, error, warning
from db.rules.inputs import ContractInput


def proposed_end_date(start: date | None, duration_years: int | None) -> date | None:
    """End proposed from the contract type's usual duration (the agent may change it)."""
    if start is None or not duration_years:
        return None
    return add_months(start, 12 * duration_years) - timedelta(days=1)


def evaluate_contract(contract: ContractInput) -> list[Finding]:
    findings: list[Finding] = []
    _order(findings, [
        ("end_date", "date de début", contract.start_date, "Date de fin", contract.end_date),
        ("start_date", "date de signature", contract.signature_date,
         "Date de début d'exécution", contract.start_date),
    ], "contract.dates")
    if contract.signed and contract.signature_date is None:
        findings.append(warning("contract.signature_missing", "signature_date",
                                "Contrat signé : la date de signature n'est pas renseignée.",
                                texts.DATES))
    for amount, name, label in ((contract.envelope_total, "envelope_total", "Enveloppe totale"),
                                (contract.envelope_state, "envelope_state", "Part de l'État")):
        if amount is not None and amount < 0:
            findings.append(error("contract.negative", name,
                                  f"{label} : un montant ne peut pas être négatif.",
                                  "enveloppe du contrat", strict=True))
    if (contract.envelope_total is not None and contract.envelope_state is not None
            and contract.envelope_state > contract.envelope_total):
        findings.append(error(
            "contract.state_above_total", "envelope_state",
            f"Part de l'État ({euros(contract.envelope_state)}) supérieure à l'enveloppe totale "
            f"({euros(contract.envelope_total)}).", "enveloppe du contrat"))
    for index, signed_on in enumerate(contract.amendment_dates, start=1):
        if signed_on and contract.signature_date and signed_on < contract.signature_date:
            findings.append(error(
                "contract.amendment_before_signature", f"amendments[{index - 1}].date",
                f"Avenant {index} ({day(signed_on)}) antérieur à la signature du contrat "
                f"({day(contract.signature_date)}).", texts.DATES))
    return findings
