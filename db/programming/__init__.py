"""Programmation: envelopes of the dotations (DETR, DSIL…), their figures, the
simulations of a programmation and the exports for the DETR commission.

Office work: nothing here travels in a field copy (db.field)."""
