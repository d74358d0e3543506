"""Plain administrative language and FALC rewriting, with a rule checker."""

from __future__ import annotations

from civique.tools.registry import ToolRegistry


def register(registry: ToolRegistry) -> None:
    """Add the plain-language tool to the registry."""
    from civique.tools.plain_language.tool import TOOL

    registry.register(TOOL)
