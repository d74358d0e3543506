"""The provider registry: built-in providers are registered like any other."""

from __future__ import annotations

from civique.llm.providers.embedded import EmbeddedProvider
from civique.llm.providers.fake import FakeProvider
from civique.llm.providers.openai_compat import OpenAICompatibleProvider
from civique.llm.types import ModelInfo, Provider
from civique.settings import Settings


class UnknownModel(LookupError):
    """No registered provider serves this model id."""


class ProviderRegistry:
    """Maps model ids to the provider serving them."""

    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {}
        self._models: dict[str, ModelInfo] = {}

    def register(self, provider: Provider) -> None:
        """Add a provider and index its models."""
        self._providers[provider.name] = provider
        for info in provider.models():
            self._models[info.id] = info

    def models(self) -> list[ModelInfo]:
        """Every registered model."""
        return list(self._models.values())

    def info(self, model_id: str) -> ModelInfo:
        """The model's description, or `UnknownModel`."""
        try:
            return self._models[model_id]
        except KeyError:
            raise UnknownModel(model_id) from None

    def provider_for(self, model_id: str) -> tuple[Provider, str]:
        """The provider and its own name for the model."""
        info = self.info(model_id)
        return self._providers[info.provider], model_id.split("/", 1)[1]

    def providers(self) -> list[Provider]:
        """Every registered provider."""
        return list(self._providers.values())


def build_registry(settings: Settings) -> ProviderRegistry:
    """Register the built-in providers that settings enable, then the configured servers."""
    registry = ProviderRegistry()
    if settings.embedded_enabled or settings.embedded_embeddings_enabled:
        registry.register(EmbeddedProvider(settings))
    if settings.fake_provider_enabled:
        registry.register(FakeProvider(settings.fake_token_delay_seconds))
    for config in settings.providers:
        registry.register(OpenAICompatibleProvider(config))
    return registry
