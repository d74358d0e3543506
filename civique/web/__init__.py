"""Web layer: templates, sessions, CSRF, the dependencies every route uses."""
