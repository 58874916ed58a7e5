"""Check and render a DOCX act template (docxtpl: Jinja tags in a Word document).

A template may only use the fields of :data:`db.acts.fields.CATALOGUE`: before
anything is rendered, every ``{{ champ }}`` and every name in a ``{% if … %}`` is
looked up, and an unknown one is refused with its paragraph number (counted in the
order of the document: body, tables, then headers and footers), so that the agent who
edited the template in LibreOffice or Word finds it. A field whose value the base does
not hold prints as « [à compléter : champ] », never as an empty string; in a condition
it counts as false.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from db.acts.fields import FIELDS
from db.errors import UserError
from db.reference import resource

_TAG = re.compile(r"\{\{(.*?)\}\}|\{%-?\s*[pr]?\s*(if|elif|for)\b(.*?)-?%\}", re.S)
TEMPLATES_DIR = resource("modeles")  # the shipped templates (scripts/build_templates.py)


class TemplateError(UserError):
    """A template cannot be used (unknown field, broken tag, not a DOCX file)."""


@dataclass(frozen=True)
class UnknownField:
    name: str
    paragraph: int  # 1-based, in the order of the document
    text: str  # the paragraph, to show where


class Missing(str):
    """A value the base does not hold: prints « [à compléter : champ] », false in an if."""

    def __new__(cls, name: str) -> Missing:
        return super().__new__(cls, f"[à compléter : {name}]")

    def __bool__(self) -> bool:
        return False


def shipped(name: str = "arrete_attributif_detr.docx") -> Path:
    return TEMPLATES_DIR / name


def _paragraphs(document) -> Iterator[str]:
    def walk(container) -> Iterator[str]:
        for paragraph in container.paragraphs:
            yield paragraph.text
        for table in getattr(container, "tables", []):
            for row in table.rows:
                for cell in row.cells:
                    yield from walk(cell)

    yield from walk(document)
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header,
                     section.first_page_footer):
            if not part.is_linked_to_previous:
                yield from walk(part)


def _names(expression: str, where: str) -> set[str]:
    from jinja2 import Environment, TemplateSyntaxError, meta

    try:
        parsed = Environment().parse("{{ " + expression + " }}")
    except TemplateSyntaxError as exc:
        raise TemplateError(f"Modèle refusé : balise illisible {where} : "
                            f"« {{{{{expression}}}}} » (un champ s'écrit {{{{ nom_du_champ }}}}, "
                            "entre doubles accolades).") from exc
    return set(meta.find_undeclared_variables(parsed))


def _open(source: Path | bytes):
    from docx import Document

    try:
        return Document(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    except Exception as exc:  # python-docx raises several kinds on a file that is not DOCX
        raise TemplateError("Modèle refusé : le fichier est absent ou n'est pas un "
                            "document DOCX (enregistrez-le au format Word .docx).") from exc


def unknown_fields(source: Path | bytes) -> list[UnknownField]:
    """The names a template uses that are not in the catalogue, with their paragraph."""
    found = []
    loop_names: set[str] = set()
    for number, text in enumerate(_paragraphs(_open(source)), start=1):
        for match in _TAG.finditer(text):
            where = f"au paragraphe {number}"
            if match.group(1) is not None:
                names = _names(match.group(1), where)
            elif match.group(2) == "for":
                target, _, iterable = match.group(3).partition(" in ")
                loop_names |= {n.strip() for n in target.split(",")}
                names = _names(iterable, where)
            else:
                names = _names(match.group(3), where)
            found += [UnknownField(name, number, text.strip()) for name in sorted(names)
                      if name not in FIELDS and name not in loop_names]
    return found


def check_template(source: Path | bytes) -> None:
    """Refuse a template that uses a field outside the catalogue, naming it and where."""
    unknown = unknown_fields(source)
    if unknown:
        lines = "\n".join(f"- « {u.name} », paragraphe {u.paragraph} : « {u.text[:80]} »"
                          for u in unknown)
        what = "champ inconnu" if len(unknown) == 1 else "champs inconnus"
        raise TemplateError(f"Modèle refusé : {what} (voir la liste des champs "
                            f"disponibles) :\n{lines}")


def render(source: Path | bytes, values: dict[str, object]) -> bytes:
    """The DOCX of *source* filled with *values* (after :func:`check_template`)."""
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError as JinjaError

    check_template(source)
    filled = {name: (Missing(name) if values.get(name) is None else values[name])
              for name in FIELDS}
    template = DocxTemplate(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    try:
        template.render(filled, autoescape=True)
    except JinjaError as exc:
        line = f" (ligne {exc.lineno} du document interne)" if getattr(exc, "lineno", None) else ""
        raise TemplateError("Modèle refusé : ses balises {% … %} ne se referment pas comme "
                            f"il faut{line} ; vérifiez chaque « if » et son « endif ».") from exc
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()
