"""Model providers. Only `civique.llm.gateway` and `civique.llm.registry` import this package."""
