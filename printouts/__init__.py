"""PDF documents. Receives plain data (db.documents), never queries the database."""
