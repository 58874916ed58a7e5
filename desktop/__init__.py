"""Qt user interface. Talks to db.services and db.queries only, never to SQL."""
