"""Letters: the template library, the required-mentions checker and the letters tool."""

from __future__ import annotations

from civique.tools.registry import ToolRegistry


def register(registry: ToolRegistry) -> None:
    """Add the letters tool to the registry."""
    from civique.tools.letters.tool import TOOL

    registry.register(TOOL)
