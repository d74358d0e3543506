"""Model layer: providers behind a registry, and the gateway every model call goes through."""
