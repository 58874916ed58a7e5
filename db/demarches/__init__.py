"""Dossiers of Démarches numériques: reading the export of a démarche, importing and
updating its dossiers as candidate operations."""
