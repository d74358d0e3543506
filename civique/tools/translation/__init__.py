"""Translation of official texts and documents, with organisation glossaries."""
