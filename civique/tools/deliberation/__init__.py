"""Council deliberations and notes to elected officials."""

from __future__ import annotations

from civique.tools.registry import ToolRegistry


def register(registry: ToolRegistry) -> None:
    """Add the deliberations and notes tool to the registry."""
    from civique.tools.deliberation.tool import TOOL

    registry.register(TOOL)
