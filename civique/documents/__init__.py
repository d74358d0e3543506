"""Documents: parsing with positions, chunking (later: collections, ingestion, search)."""
