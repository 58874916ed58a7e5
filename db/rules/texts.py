"""The texts the rules apply, as their messages cite them. Their wording, and how each
threshold is read, are in docs/regles-et-textes.md. One place, so that a renumbering
is one change."""

from __future__ import annotations

OWN_SHARE = "CGCT art. L1111-10"
OWN_SHARE_CHEF_DE_FILE = "CGCT art. L1111-9"
DETR_BENEFICIARIES = "CGCT art. L2334-33"
DETR_COMMISSION = "CGCT art. L2334-37"
DSIL_BENEFICIARIES = "CGCT art. L2334-42"
DOTATION_EARLY_START = "CGCT art. R2334-24"
DOTATION_RATES = "CGCT art. R2334-27"
DOTATION_START = "CGCT art. R2334-28"
DOTATION_COMPLETION = "CGCT art. R2334-29"
DOTATION_PAYMENTS = "CGCT art. R2334-30"
DECREE = "décret n° 2018-514 du 25 juin 2018"
DECREE_EARLY_START = "décret n° 2018-514, art. 5"
DECREE_AID_CAP = "décret n° 2018-514, art. 10"
DECREE_START = "décret n° 2018-514, art. 11"
DECREE_PAYMENTS = "décret n° 2018-514, art. 12"
DECREE_COMPLETION = "décret n° 2018-514, art. 8 et 14"
PLAN = "plan de financement"
DATES = "cohérence des dates"
CONTRACT = "contrat de rattachement"
PAYMENT = "règle de paiement"
