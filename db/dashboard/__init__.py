"""The Tableau de bord's figures (SQL aggregates, no Qt, no matplotlib)."""
