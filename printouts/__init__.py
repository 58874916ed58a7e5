"""PDF documents. Receives plain data (db.documents), never queries the database."""

from __future__ import annotations

from typing import Any


def render(document: Any) -> bytes:
    """The PDF of any document of :mod:`db.documents`, by the kind of its provenance."""
    from printouts import annex, plan, statement, summary

    renderers = {"annexe": annex.annex_pdf, "plan": plan.plan_pdf,
                 "synthese": summary.summary_pdf, "etat": statement.statement_pdf}
    return renderers[document.provenance.kind](document)
