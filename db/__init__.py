"""Data layer: models, persistence, domain rules. Never imports Qt."""
