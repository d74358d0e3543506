"""Background jobs (huey): SQLite-backed by default, Redis at scale."""
