"""The pages of the main window, in their order: the one list the navigation, the
screenshot option and ``main.py --help`` read. No Qt import here, so that the command
line can list the pages without loading Qt."""

from __future__ import annotations

# key (for --view), navigation label, what the page shows (for --help)
VIEWS = [
    ("contracts", "Contrats", "liste des contrats"),
    ("operations", "Opérations", "liste des opérations, avec coût, accordé, versé et reste "
                                 "à verser"),
    ("funding_lines", "Financements", "liste des lignes de financement"),
    ("organisations", "Acteurs", "maîtres d'ouvrage, financeurs et signataires"),
    ("territory", "Territoire", "communes et EPCI de l'arrondissement avec leurs totaux"),
    ("reports", "Rapports", "accordé et versé par financeur, par exercice, par commune, "
                            "par EPCI et par contrat"),
    ("envelopes", "Enveloppes", "enveloppes DETR, DSIL… de l'année : notifié, demandé, "
                                "programmé, reste à attribuer, versé ; simulations"),
    ("deadlines", "Échéances", "échéancier de l'arrondissement : caducités, achèvements, "
                               "prorogations, soldes, fins de contrat, avenants et comités"),
    ("dashboard", "Tableau de bord", "graphiques : consommation des enveloppes, accordé et "
                                     "versé par exercice, par dispositif et par EPCI, "
                                     "échéances à venir"),
    ("journal", "Journal", "modifications récentes de la base : qui, quand, quoi, d'où "
                           "(saisie, import, copie de terrain)"),
]

# Editors shown by a screenshot: kind:REFERENCE, with one of their tabs after a slash.
EDITOR_VIEWS = {
    "operation": ("fiche d'une opération", ["identification", "plan"]),
    "contract": ("fiche d'un contrat", ["identification", "axes", "signataires", "operations"]),
}
