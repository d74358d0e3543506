"""Translation of official texts and documents, with organisation glossaries."""

from __future__ import annotations

from civique.tools.registry import ToolRegistry


def register(registry: ToolRegistry) -> None:
    """Add the translation tool to the registry."""
    from civique.tools.translation.tool import TOOL

    registry.register(TOOL)
