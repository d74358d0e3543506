"""Civique: a self-hosted generative-AI workspace for public administrations."""

__version__ = "0.1.0"
