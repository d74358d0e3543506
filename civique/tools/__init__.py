"""Ready administrative tools: a registry of plugins (DESIGN.md §3), one package per tool."""
