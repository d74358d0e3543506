"""The embedded chat model: load time, time to first token and tokens/second.

Each measure is taken twice in the same run, interleaved: directly through llama-cpp-python (the
baseline) and through Civique's gateway (permission check, queue, worker thread, usage and output
records), so the difference is the gateway's own cost.
"""

from __future__ import annotations

import asyncio
import gc
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import median, table
from bench.texts import SHORT_QUESTION, SYSTEM, administrative_text, long_user_message
from civique.auth.service import create_user
from civique.db.engine import make_engine, make_session_factory
from civique.db.migrate import upgrade
from civique.llm.gateway import CallContext, Completed, Gateway
from civique.llm.model_files import ensure_packaged_model
from civique.llm.registry import build_registry
from civique.llm.types import ChatMessage, ChatParams, Delta
from civique.orgs.service import create_organisation
from civique.settings import Settings

MODEL_ID = "embedded/qwen2.5-1.5b-instruct"
LONG_DOCUMENT_TOKENS = 1430  # with the question and the chat template: about 1,500 tokens
MAX_TOKENS = 64


@dataclass
class Run:
    """One generation: seconds to the first token, tokens produced, seconds from first to last."""

    first_token: float
    tokens: int
    generating: float

    @property
    def tokens_per_second(self) -> float:
        """Decoding speed after the first token."""
        return (self.tokens - 1) / self.generating if self.tokens > 1 and self.generating else 0.0


@dataclass
class Case:
    """A prompt and its measured runs on both paths."""

    name: str
    user: str
    system: str
    prompt_tokens: int
    direct: list[Run]
    gateway: list[Run]


def bench_settings(data_dir: Path) -> Settings:
    """Settings for the gateway: the real model files, a throw-away SQLite database."""
    base = Settings()
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="development",
        data_dir=base.data_dir,
        database_url=f"sqlite:///{data_dir / 'bench.db'}",
        embedded_enabled=True,
        embedded_embeddings_enabled=False,
        embedded_model_path=base.embedded_model_path,
        embedded_model_sha256=base.embedded_model_sha256,
        embedded_context_tokens=base.embedded_context_tokens,
        embedded_threads=base.embedded_threads,
        log_level="WARNING",
        log_json=False,
    )


def model_file(settings: Settings) -> Path:
    """The GGUF file the embedded provider would load (assembled and verified if needed)."""
    if settings.embedded_model_path is not None:
        return settings.embedded_model_path
    return ensure_packaged_model(settings.data_dir / "models")


def _messages(tag: str, user: str, system: str = "") -> list[ChatMessage]:
    # A distinct first line per run: llama.cpp reuses the longest common token prefix of the
    # previous prompt, which would otherwise hide the prompt-reading time of runs 2 and 3.
    # (Without any system message Qwen's template would add a default one of ~20 tokens.)
    return [ChatMessage("system", f"Dossier {tag}. {system}".strip()), ChatMessage("user", user)]


def direct_run(llm: Any, messages: list[ChatMessage], max_tokens: int = MAX_TOKENS) -> Run:
    """Generate with llama-cpp-python directly, as the embedded provider does."""
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    stream = llm.create_chat_completion(
        messages=[{"role": m.role, "content": m.content} for m in messages],
        stream=True,
        max_tokens=max_tokens,
        temperature=0.0,
    )
    for chunk in stream:
        if chunk["choices"][0].get("delta", {}).get("content"):
            last = time.perf_counter()
            first = first or last
            tokens += 1
    return Run(first - started, tokens, last - first)


async def gateway_run(
    gateway: Gateway, ctx: CallContext, messages: list[ChatMessage], max_tokens: int = MAX_TOKENS
) -> Run:
    """Generate through the gateway, which also writes the usage and output records."""
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    params = ChatParams(max_tokens=max_tokens, temperature=0.0)
    async for event in gateway.stream_chat(ctx, MODEL_ID, messages, params):
        if isinstance(event, Delta):
            last = time.perf_counter()
            first = first or last
            tokens += 1
        elif isinstance(event, Completed) and event.status != "ok":
            raise RuntimeError(f"gateway call failed: {event.error}")
    return Run(first - started, tokens, last - first)


def _prepare_gateway(settings: Settings) -> tuple[Gateway, CallContext]:
    upgrade(settings)
    sessions = make_session_factory(make_engine(settings.sqlalchemy_url))
    with sessions() as session:
        org = create_organisation(session, None, "bench", "Banc d'essai", [MODEL_ID])
        user = create_user(session, org.id, "bench@bench.test", "Banc d'essai", "agent")
    ctx = CallContext(org_id=org.id, user_id=user.id, role="agent", tool="bench", channel="bench")
    return Gateway(build_registry(settings), sessions, settings), ctx


def _prompt_tokens(llm: Any, messages: list[ChatMessage]) -> int:
    # Contents plus about 5 tokens of chat template per message.
    return sum(len(llm.tokenize(m.content.encode(), add_bos=False)) + 5 for m in messages)


def run(runs: int = 3) -> tuple[str, dict[str, Any]]:
    """Measure both paths; returns the Markdown section and the raw numbers."""
    from llama_cpp import Llama  # heavy import, only for this benchmark

    with tempfile.TemporaryDirectory(prefix="civique-bench-") as tmp:
        settings = bench_settings(Path(tmp))
        path = model_file(settings)
        print(f"  loading {path.name} directly (first construction in this process)…", flush=True)
        started = time.perf_counter()
        llm = Llama(model_path=str(path), n_ctx=settings.embedded_context_tokens,
                    n_threads=settings.embedded_threads, verbose=False)
        load_seconds = time.perf_counter() - started
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        document = llm.detokenize(
            llm.tokenize(administrative_text().encode(), add_bos=False)[:LONG_DOCUMENT_TOKENS]
        ).decode("utf-8", errors="ignore")
        gateway, ctx = _prepare_gateway(settings)
        loop = asyncio.new_event_loop()
        try:
            direct_run(llm, _messages("warm-up-direct", "Bonjour."), 4)
            started = time.perf_counter()
            loop.run_until_complete(
                gateway_run(gateway, ctx, _messages("warm-up-gateway", "Bonjour."), 4))
            first_gateway_call = time.perf_counter() - started
            cases = [
                Case("short", SHORT_QUESTION, "", 0, [], []),
                Case("long", long_user_message(document), SYSTEM, 0, [], []),
            ]
            for index in range(runs):
                for case in cases:
                    print(f"  run {index + 1}/{runs}, {case.name} prompt…", flush=True)
                    messages = _messages(f"direct-{case.name}-{index}", case.user, case.system)
                    case.prompt_tokens = _prompt_tokens(llm, messages)
                    case.direct.append(direct_run(llm, messages))
                    messages = _messages(f"gateway-{case.name}-{index}", case.user, case.system)
                    measured = loop.run_until_complete(gateway_run(gateway, ctx, messages))
                    case.gateway.append(measured)
        finally:
            loop.close()
            del llm
            gc.collect()
    numbers = {"load_seconds": load_seconds, "rss_mb": rss_mb,
               "first_gateway_call_seconds": first_gateway_call, "cases": cases}
    return _report(numbers, runs), numbers


def _spread(values: list[float], unit: str, fmt: str) -> str:
    """Median, and the range over the runs when there are several."""
    text = f"{fmt.format(median(values))} {unit}"
    if len(values) > 1:
        text += f" ({fmt.format(min(values))}–{fmt.format(max(values))})"
    return text


def _report(numbers: dict[str, Any], runs: int) -> str:
    rows: list[list[object]] = [
        ["model load (first `Llama()` in the process)", f"{numbers['load_seconds']:.2f} s",
         "—", "—"],
        ["first gateway call (its own instance loaded, 4 tokens)", "—",
         f"{numbers['first_gateway_call_seconds']:.2f} s", "—"],
    ]
    for case in numbers["cases"]:
        label = f"{case.name} prompt (≈{case.prompt_tokens:,} tokens)"
        d_first = [r.first_token * 1000 for r in case.direct]
        g_first = [r.first_token * 1000 for r in case.gateway]
        d_ttft, g_ttft = median(d_first) / 1000, median(g_first) / 1000
        d_rate = [r.tokens_per_second for r in case.direct]
        g_rate = [r.tokens_per_second for r in case.gateway]
        d_tps, g_tps = median(d_rate), median(g_rate)
        rows.append([f"{label}: time to first token", _spread(d_first, "ms", "{:,.0f}"),
                     _spread(g_first, "ms", "{:,.0f}"), f"{(g_ttft - d_ttft) * 1000:+,.0f} ms"])
        rows.append([f"{label}: generation", _spread(d_rate, "tokens/s", "{:.1f}"),
                     _spread(g_rate, "tokens/s", "{:.1f}"),
                     f"{(g_tps / d_tps - 1) * 100:+.1f} %" if d_tps else "—"])
        if case.name == "long":
            rows.append([f"{label}: prompt reading", f"{case.prompt_tokens / d_ttft:.0f} tokens/s",
                         f"{case.prompt_tokens / g_ttft:.0f} tokens/s", "—"])
    tokens = sorted({r.tokens for c in numbers["cases"] for r in c.direct + c.gateway})
    return "\n".join([
        "## Embedded chat model (Qwen2.5 1.5B Q4_K_M, llama-cpp-python, 2 threads)",
        "",
        f"Median of {runs} runs per cell (range in brackets), temperature 0, at most "
        f"{MAX_TOKENS} tokens per answer "
        f"(answers had {', '.join(map(str, tokens))} tokens). Direct and gateway runs are "
        "interleaved, each with a distinct first prompt line so that llama.cpp cannot reuse the "
        "previous run's prompt. Peak resident memory after the first load: "
        f"{numbers['rss_mb']:,.0f} MB.",
        "",
        table(["measure", "direct llama.cpp (baseline)", "through the gateway",
               "gateway overhead"], rows),
    ])
