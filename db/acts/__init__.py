"""Acts (arrêtés, letters) written from the office's own templates; no Qt.

:mod:`db.acts.fields` is the documented catalogue of the named fields a template may
use and builds their values for a funding line; :mod:`db.acts.templates` checks a DOCX
template's fields against it and renders it. Imported lazily (not on the start-up
path): docxtpl and num2words are loaded only when an act is made.
"""
