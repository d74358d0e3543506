"""The embedded CPU models, for real: French answers, queueing, checksum refusal, embeddings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from civique.llm.model_files import ModelFileError
from civique.llm.providers.embedded import EmbeddedProvider
from civique.llm.types import (
    CancelToken,
    ChatMessage,
    ChatParams,
    Delta,
    ProviderError,
    Queued,
    Usage,
)
from civique.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def provider(
    embedded_model_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> EmbeddedProvider:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("emb"),  # type: ignore[call-arg]
        embedded_model_path=embedded_model_file,
        embedded_max_tokens=48,
        embedded_queue_limit=2,
    )
    return EmbeddedProvider(settings)


async def _run(provider: EmbeddedProvider, text: str, max_tokens: int = 48) -> list[object]:
    events: list[object] = []
    stream = provider.stream_chat(
        "qwen",
        [ChatMessage("user", text)],
        ChatParams(max_tokens=max_tokens, temperature=0.0),
        CancelToken(),
    )
    async for event in stream:
        events.append(event)
    return events


def test_answers_a_french_question(provider: EmbeddedProvider) -> None:
    events = asyncio.run(
        _run(provider, "Quelle est la capitale de la France ? Réponds en une phrase.")
    )
    text = "".join(e.text for e in events if isinstance(e, Delta))
    assert "Paris" in text
    usage = events[-1]
    assert isinstance(usage, Usage) and usage.tokens_in > 5 and usage.tokens_out >= 2


def test_concurrent_requests_queue_instead_of_failing(provider: EmbeddedProvider) -> None:
    async def both() -> list[list[object]]:
        return list(
            await asyncio.gather(
                # Long enough that the second waits past the 0.25 s queue poll, even when fast.
                _run(provider, "Compte de un à trente en toutes lettres.", 48),
                _run(provider, "Écris le mot « deux ».", 8),
                return_exceptions=False,
            )
        )

    results = asyncio.run(both())
    assert all(isinstance(r[-1], Usage) for r in results)
    positions = [e.position for r in results for e in r if isinstance(e, Queued)]
    assert positions and min(positions) == 1  # somebody waited and was told their place


def test_queue_limit_refuses_with_busy(provider: EmbeddedProvider) -> None:
    async def four() -> list[object]:
        return list(
            await asyncio.gather(
                *(_run(provider, f"Compte jusqu'à {n}.", 6) for n in range(4)),
                return_exceptions=True,
            )
        )

    outcomes = asyncio.run(four())
    busy = [o for o in outcomes if isinstance(o, ProviderError)]
    assert busy and all(o.code == "busy" for o in busy)
    assert any(isinstance(o, list) for o in outcomes)


def test_stop_frees_the_model(provider: EmbeddedProvider) -> None:
    async def stopped() -> list[object]:
        cancel = CancelToken()
        events: list[object] = []
        async for event in provider.stream_chat(
            "qwen",
            [ChatMessage("user", "Raconte une longue histoire.")],
            ChatParams(max_tokens=200),
            cancel,
        ):
            events.append(event)
            if sum(isinstance(e, Delta) for e in events) == 3:
                cancel.cancel()
        return events

    events = asyncio.run(stopped())
    usage = events[-1]
    assert isinstance(usage, Usage) and usage.finish_reason == "cancelled" and usage.tokens_out <= 4


def test_wrong_checksum_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "other.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 100)
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        embedded_model_path=fake,  # type: ignore[call-arg]
        embedded_model_sha256="0" * 64,
    )
    with pytest.raises(ModelFileError, match="refusing to load"):
        EmbeddedProvider(settings).model_path()


def test_readiness_reflects_the_model_file(tmp_path: Path, embedded_model_file: Path) -> None:
    missing = Settings(_env_file=None, data_dir=tmp_path, embedded_model_path=tmp_path / "x.gguf")  # type: ignore[call-arg]
    assert asyncio.run(EmbeddedProvider(missing).ready()) is False
    present = Settings(_env_file=None, data_dir=embedded_model_file.parent.parent)  # type: ignore[call-arg]
    assert asyncio.run(EmbeddedProvider(present).ready()) is True


def test_multilingual_embeddings(provider: EmbeddedProvider) -> None:
    result = asyncio.run(
        provider.embed(
            "e5",
            [
                "Comment renouveler ma carte d'identité ?",
                "How do I renew my identity card?",
                "Horaires de la piscine municipale",
            ],
        )
    )
    fr, en, other = result.vectors
    assert len(fr) == 384
    dot = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731 - local helper
    assert abs(dot(fr, fr) - 1) < 1e-3
    assert dot(fr, en) > dot(fr, other) + 0.05


def test_a_query_is_closer_to_its_answer_than_to_other_passages(provider: EmbeddedProvider) -> None:
    """Queries use e5's `query:` prefix (their own model instance), passages `passage:`."""
    passages = asyncio.run(
        provider.embed(
            "e5",
            [
                "La carte d'identité se renouvelle en mairie sur rendez-vous (trois semaines).",
                "La déchetterie est ouverte le samedi de 9 h à 17 h.",
            ],
        )
    ).vectors
    query = asyncio.run(
        provider.embed("e5", ["Comment renouveler ma carte d'identité ?"], "query")
    ).vectors[0]
    as_passage = asyncio.run(
        provider.embed("e5", ["Comment renouveler ma carte d'identité ?"])
    ).vectors[0]
    dot = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731 - local helper
    assert dot(query, passages[0]) > dot(query, passages[1]) + 0.05
    assert dot(query, as_passage) < 0.999  # the prefix changed the vector


def test_warm_up_leaves_the_fixed_beginning_read_in_an_instance(
    provider: EmbeddedProvider,
) -> None:
    prefix = [ChatMessage("system", "Tu réponds en français."), ChatMessage("user", "Bonjour.")]
    asyncio.run(provider.warm_up("qwen", prefix))
    slot = max(provider._idle, key=lambda s: s.used)
    assert slot.last == [{"role": m.role, "content": m.content} for m in prefix]
    assert slot.llm.n_tokens > 10  # the prompt's tokens are in that instance's context
