"""Which loaded instance of the embedded chat model a prompt goes to (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from civique.llm.providers.embedded import EmbeddedProvider
from civique.settings import Settings

SYSTEM = {"role": "system", "content": "Règles fixes des réponses sur documents."}
EXAMPLE = {"role": "user", "content": "Exemple fixe."}


def _grounded(question: str) -> list[dict[str, str]]:
    return [SYSTEM, EXAMPLE, {"role": "user", "content": question}]


def _free(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EmbeddedProvider:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    made = iter(["instance-1", "instance-2", "instance-3"])
    provider = EmbeddedProvider(settings)
    monkeypatch.setattr(provider, "_new_instance", lambda: next(made))
    return provider


def _use(provider: EmbeddedProvider, prompt: list[dict[str, str]]) -> str:
    slot = provider._acquire(prompt)
    slot.last = prompt
    provider._release(slot)
    return str(slot.llm)


def test_prompts_with_the_same_beginning_share_an_instance(provider: EmbeddedProvider) -> None:
    assert _use(provider, _grounded("Horaires de la mairie ?")) == "instance-1"
    assert _use(provider, _free("Écris un poème.")) == "instance-2"
    assert _use(provider, _grounded("Tarif de la salle ?")) == "instance-1"
    # The follow-up of the free chat begins with its first message.
    follow_up = [*_free("Écris un poème."), {"role": "assistant", "content": "…"}]
    assert _use(provider, follow_up) == "instance-2"
    assert _use(provider, _grounded("Caution ?")) == "instance-1"


def test_no_more_instances_than_slots_and_the_longest_idle_is_reused(
    provider: EmbeddedProvider,
) -> None:
    assert _use(provider, _grounded("Horaires ?")) == "instance-1"
    assert _use(provider, _free("Premier texte.")) == "instance-2"
    assert _use(provider, _grounded("Tarifs ?")) == "instance-1"
    # A third kind of prompt: both slots are taken, the one idle the longest (2) is reused.
    assert _use(provider, _free("Autre conversation.")) == "instance-2"
    assert provider._created == 2


def test_busy_instances_are_never_handed_out_twice(provider: EmbeddedProvider) -> None:
    first = provider._acquire(_grounded("Horaires ?"))
    second = provider._acquire(_grounded("Tarifs ?"))
    assert first is not second and provider._created == 2
