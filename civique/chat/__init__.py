"""Conversations with a model: messages, streaming, stop and regenerate."""
