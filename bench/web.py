"""The web tier with the fake model: requests/second and concurrent streams, 1 and 2 workers.

Civique runs as `civique serve --workers N` in a subprocess (SQLite in a temporary data
directory, a bench organisation and API token created beforehand with the CLI and the services);
the load comes from this process (httpx.AsyncClient for requests, bare asyncio connections for
streams), to 127.0.0.1 only. The baseline, measured
in the same run, calls the fake provider directly in process with the same concurrency, so the
difference is Civique's own cost: HTTP, token check, permission check, records, JSON/SSE.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select

from bench.common import median, percentile, table
from civique.auth.service import create_api_token, create_user
from civique.db.engine import make_engine, make_session_factory
from civique.llm.models import ModelCall
from civique.llm.registry import build_registry
from civique.llm.types import CancelToken, ChatMessage, ChatParams, Delta
from civique.orgs.service import create_organisation
from civique.settings import Settings

TOKEN_DELAY = 0.005
MODEL = "fake/echo"
# The fake model answers "Réponse simulée n°1 : vous avez écrit « … »." word by word: 9 words
# of its own plus the 31 below make the ~40 tokens of a short answer.
QUESTION = (
    "Bonjour, je voudrais savoir quelles pièces justificatives apporter en mairie pour "
    "refaire ma carte d'identité après un vol, et combien de temps il faut compter avant de "
    "pouvoir enfin la récupérer."
)
REPLY_TOKENS = 9 + len(QUESTION.split(" "))
START_TIMEOUT = 60.0


@dataclass
class Cpu:
    """CPU seconds used during a measure: by the server processes and by this process."""

    server: float = 0.0
    here: float = 0.0
    wall: float = 0.0

    def per_call_ms(self, calls: int, in_process: bool) -> str:
        """CPU milliseconds per answered call, on the serving side."""
        spent = self.here if in_process else self.server
        return f"{spent / calls * 1000:.1f} ms" if calls else "—"

    def generator_share(self, in_process: bool) -> str:
        """CPU used by the load generator, in % of one core."""
        return "(same process)" if in_process else f"{self.here / self.wall * 100:.0f} %"


@dataclass
class Load:
    """A closed-loop load: answered calls per second and their latency."""

    calls: int
    seconds: float
    latencies: list[float]
    errors: int
    warm_up_calls: int = 0
    cpu: Cpu = field(default_factory=Cpu)

    @property
    def per_second(self) -> float:
        """Answered calls per second."""
        return self.calls / self.seconds if self.seconds else 0.0


@dataclass
class Streams:
    """N streams started at once: how many finished, how many were open together, first bytes."""

    started: int
    completed: int = 0
    errors: int = 0
    peak_open: int = 0
    first_bytes: list[float] = field(default_factory=list)
    seconds: float = 0.0
    open_now: int = 0
    cpu: Cpu = field(default_factory=Cpu)

    def opened(self, delay: float) -> None:
        """A stream's first byte arrived."""
        self.first_bytes.append(delay)
        self.open_now += 1
        self.peak_open = max(self.peak_open, self.open_now)



T = TypeVar("T")

def _run(function: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """Run one coroutine function to completion in a new event loop."""
    return asyncio.run(function(*args))

def _env(data_dir: Path) -> dict[str, str]:
    # The instance is configured by environment, as an operator would; nothing inherited from
    # the caller's CIVIQUE_* variables (their database must never receive bench traffic).
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIQUE_")}
    env.update({
        "CIVIQUE_ENVIRONMENT": "development",
        "CIVIQUE_DATA_DIR": str(data_dir),
        "CIVIQUE_FAKE_PROVIDER_ENABLED": "true",
        "CIVIQUE_FAKE_TOKEN_DELAY_SECONDS": str(TOKEN_DELAY),
        "CIVIQUE_EMBEDDED_ENABLED": "false",
        "CIVIQUE_EMBEDDED_EMBEDDINGS_ENABLED": "false",
        "CIVIQUE_HOST": "127.0.0.1",
    })
    return env


def _settings(data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="development",
        data_dir=data_dir,
        fake_provider_enabled=True,
        fake_token_delay_seconds=TOKEN_DELAY,
        embedded_enabled=False,
        embedded_embeddings_enabled=False,
        log_level="WARNING",
        log_json=False,
    )


def prepare(data_dir: Path) -> str:
    """Migrate with the CLI, create the bench organisation, user and token; returns the token."""
    subprocess.run([sys.executable, "-m", "civique.cli", "migrate"], env=_env(data_dir),
                   cwd=data_dir, check=True, stdout=subprocess.DEVNULL)
    engine = make_engine(_settings(data_dir).sqlalchemy_url)
    with make_session_factory(engine)() as session:
        org = create_organisation(session, None, "bench", "Banc d'essai", [MODEL])
        user = create_user(session, org.id, "bench@bench.test", "Banc d'essai", "agent")
        _token, clear = create_api_token(session, user, "bench")
    engine.dispose()
    return clear


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (Uvicorn's workers)."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
    return total


def measured(server_pid: int | None, work: Callable[[], Any]) -> tuple[Any, Cpu]:
    """Run `work()` and the CPU seconds it cost the server (if any) and this process."""
    server = _cpu_seconds(server_pid) if server_pid else 0.0
    here, wall = time.process_time(), time.perf_counter()
    result = work()
    cpu = Cpu(_cpu_seconds(server_pid) - server if server_pid else 0.0,
              time.process_time() - here, time.perf_counter() - wall)
    return result, cpu


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(data_dir: Path, workers: int) -> Iterator[tuple[str, int]]:
    """`civique serve --workers N` in a subprocess, until the block ends; yields URL and pid."""
    port = _free_port()
    log = (data_dir / f"serve-{workers}.log").open("wb")
    command = [sys.executable, "-m", "civique.cli", "serve", "--workers", str(workers),
               "--port", str(port)]
    process = subprocess.Popen(command, env=_env(data_dir), cwd=data_dir, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"civique serve exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("civique serve did not start in time")


async def closed_loop(call: Callable[[], Awaitable[None]], concurrency: int,
                      seconds: float) -> Load:
    """`concurrency` workers calling back to back for `seconds`."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                await call()
            except Exception:  # counted, and the load goes on
                errors += 1
            else:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Load(len(latencies), time.perf_counter() - started, latencies, errors)


def _body(stream: bool) -> dict[str, Any]:
    return {"model": MODEL, "stream": stream, "messages": [{"role": "user", "content": QUESTION}]}


def _client(url: str, token: str, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {token}"},
                             limits=limits, timeout=httpx.Timeout(120.0))


async def civique_requests(url: str, token: str, concurrency: int, seconds: float) -> Load:
    """Non-streaming chat completions against the server."""
    async with _client(url, token, concurrency) as client:

        async def call() -> None:
            response = await client.post("/api/v1/chat/completions", json=_body(False))
            response.raise_for_status()
            usage = response.json()["usage"]
            if usage["completion_tokens"] != REPLY_TOKENS:
                raise RuntimeError(f"unexpected answer: {usage}")

        warm_up = await closed_loop(call, concurrency, min(1.0, seconds))  # connections, caches
        measured = await closed_loop(call, concurrency, seconds)
        measured.warm_up_calls = warm_up.calls
        return measured


async def _raw_stream(
    host: str, port: int, request: bytes, on_first: Callable[[float], None]
) -> bytes:
    """Send one request on a new connection; report the first response byte, return all bytes.

    A bare asyncio connection instead of httpx: with hundreds of SSE streams, httpx's own
    parsing took most of a core in this process and the bench measured the client.
    """
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        data = bytearray()
        while chunk := await reader.read(65536):
            if not data:
                on_first(time.perf_counter() - started)
            data += chunk
        return bytes(data)
    finally:
        writer.close()


def _stream_request(url: str, token: str) -> bytes:
    address = url.removeprefix("http://")
    body = json.dumps(_body(True)).encode()
    head = (
        "POST /api/v1/chat/completions HTTP/1.1\r\n"
        f"Host: {address}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


async def civique_streams(url: str, token: str, count: int) -> Streams:
    """`count` streaming chats started at once against the server, one connection each."""
    result = Streams(count)
    host, port = url.removeprefix("http://").split(":")
    request = _stream_request(url, token)

    async def one() -> None:
        data = b""
        with contextlib.suppress(OSError, TimeoutError):  # counted as errors below
            data = await asyncio.wait_for(
                _raw_stream(host, int(port), request, result.opened), 120)
        if data:
            result.open_now -= 1  # open from its first byte to its end
        ok = data.startswith(b"HTTP/1.1 200") and b"data: [DONE]" in data
        ok = ok and b'"error"' not in data
        result.completed += ok
        result.errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    result.seconds = time.perf_counter() - started
    return result


Fake = tuple[Any, str]  # the provider object and its own name for the model


def fake_provider() -> Fake:
    """The fake provider exactly as the registry builds it for the server."""
    with tempfile.TemporaryDirectory() as tmp:
        return build_registry(_settings(Path(tmp))).provider_for(MODEL)


async def _consume(fake: Fake, on_first: Callable[[], None] | None = None) -> int:
    provider, native = fake
    tokens = 0
    messages = [ChatMessage("user", QUESTION)]
    async for event in provider.stream_chat(native, messages, ChatParams(), CancelToken()):
        if isinstance(event, Delta):
            if tokens == 0 and on_first is not None:
                on_first()
            tokens += 1
    return tokens


async def baseline_requests(fake: Fake, concurrency: int, seconds: float) -> Load:
    """The fake provider called in process, same concurrency."""

    async def call() -> None:
        if await _consume(fake) != REPLY_TOKENS:
            raise RuntimeError("unexpected answer")

    return await closed_loop(call, concurrency, seconds)


async def baseline_streams(fake: Fake, count: int) -> Streams:
    """`count` fake generations started at once in process."""
    result = Streams(count)

    async def one() -> None:
        started = time.perf_counter()
        tokens = await _consume(fake, lambda: result.opened(time.perf_counter() - started))
        result.open_now -= 1
        result.completed += tokens == REPLY_TOKENS
        result.errors += tokens != REPLY_TOKENS

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    result.seconds = time.perf_counter() - started
    return result


def _records(data_dir: Path) -> int:
    engine = make_engine(_settings(data_dir).sqlalchemy_url)
    with make_session_factory(engine)() as session:
        count = session.scalar(select(func.count()).select_from(ModelCall)) or 0
    engine.dispose()
    return count


@dataclass
class Plan:
    """How hard to push."""

    concurrency: int = 32
    seconds: float = 8.0
    stream_counts: tuple[int, ...] = (50, 200, 500)
    workers: tuple[int, ...] = (1, 2)


def run(quick: bool = False) -> tuple[str, dict[str, Any]]:
    """Measure the baseline and the server with 1 and 2 workers; returns Markdown and numbers."""
    plan = Plan(16, 2.0, (20,), (1, 2)) if quick else Plan()
    requests: dict[str, Load] = {}
    streams: dict[tuple[str, int], Streams] = {}
    checks: dict[str, tuple[int, int]] = {}
    print(f"  baseline: fake provider in process, {plan.concurrency} concurrent…", flush=True)
    fake = fake_provider()
    requests["baseline"], requests["baseline"].cpu = measured(None, lambda: asyncio.run(
        baseline_requests(fake, plan.concurrency, plan.seconds)))
    for count in plan.stream_counts:
        key = ("baseline", count)
        streams[key], streams[key].cpu = measured(
            None, functools.partial(_run, baseline_streams, fake, count))
    with tempfile.TemporaryDirectory(prefix="civique-bench-web-") as tmp:
        data_dir = Path(tmp)
        token = prepare(data_dir)
        for workers in plan.workers:
            name = f"{workers} worker" + ("s" if workers > 1 else "")
            before = _records(data_dir)
            with serve(data_dir, workers) as (url, pid):
                print(f"  Civique, {name}: requests/second…", flush=True)
                requests[name], requests[name].cpu = measured(pid, functools.partial(
                    _run, civique_requests, url, token, plan.concurrency, plan.seconds))
                for count in plan.stream_counts:
                    print(f"  Civique, {name}: {count} concurrent streams…", flush=True)
                    key = (name, count)
                    streams[key], streams[key].cpu = measured(
                        pid, functools.partial(_run, civique_streams, url, token, count))
            answered = requests[name].calls + requests[name].warm_up_calls + sum(
                s.completed for (n, _), s in streams.items() if n == name)
            checks[name] = (_records(data_dir) - before, answered)
    numbers = {"plan": plan, "requests": requests, "streams": streams, "checks": checks}
    return _report(numbers), numbers


def _report(numbers: dict[str, Any]) -> str:
    plan: Plan = numbers["plan"]
    base: Load = numbers["requests"]["baseline"]
    rows = []
    for name, load in numbers["requests"].items():
        inside = name == "baseline"
        label = "fake provider in process (baseline)" if inside else f"Civique, {name}"
        rows.append([label, load.per_second, f"{median(load.latencies) * 1000:.0f} ms",
                     f"{percentile(load.latencies, 95) * 1000:.0f} ms", load.errors,
                     "—" if inside else f"{load.per_second / base.per_second * 100:.0f} %",
                     load.cpu.per_call_ms(load.calls + load.warm_up_calls, inside),
                     load.cpu.generator_share(inside)])
    stream_rows = []
    for (name, count), result in numbers["streams"].items():
        inside = name == "baseline"
        label = "baseline (in process)" if inside else f"Civique, {name}"
        stream_rows.append([count, label, f"{result.completed}/{result.started}",
                            result.peak_open,
                            f"{percentile(result.first_bytes, 50) * 1000:,.0f} ms",
                            f"{percentile(result.first_bytes, 95) * 1000:,.0f} ms",
                            f"{result.seconds:.1f} s",
                            result.cpu.per_call_ms(result.completed, inside),
                            result.cpu.generator_share(inside)])
    check_text = "; ".join(f"{name}: {written} model calls recorded for {answered} answered"
                           for name, (written, answered) in numbers["checks"].items())
    ideal = plan.concurrency / (REPLY_TOKENS * TOKEN_DELAY)
    return "\n".join([
        "## Web tier with the fake model (OpenAI-compatible API)",
        "",
        f"The fake model streams {REPLY_TOKENS} tokens with {TOKEN_DELAY * 1000:.0f} ms between "
        f"tokens (≥ {REPLY_TOKENS * TOKEN_DELAY * 1000:.0f} ms per answer). SQLite database, "
        "default settings otherwise (JSON logs, metrics on). The load generator runs on the "
        "same cores as the server: httpx.AsyncClient for requests, bare asyncio connections "
        "(one per stream, `Connection: close`) for streams, because httpx's SSE parsing took "
        "most of a core at 500 streams.",
        "",
        f"### Non-streaming `POST /api/v1/chat/completions`, {plan.concurrency} concurrent "
        f"clients for {plan.seconds:.0f} s",
        "",
        f"At most {ideal:.0f} requests/s are possible at this concurrency and token delay.",
        "",
        table(["setup", "requests/s", "p50 latency", "p95 latency", "errors",
               "of baseline", "serving CPU per answer", "load generator CPU"], rows),
        "",
        "### Streaming chats started at the same moment",
        "",
        "First byte: time from sending the request to the first SSE bytes (the server sends "
        "them with the first token). Peak open: streams that had received their first byte "
        "and not yet their end, at the busiest moment. Serving CPU: user + system time of the "
        "server processes (all workers) per answer; for the baseline, of this process. Load "
        "generator CPU: this process, in % of one core (100 % means it was itself a "
        "bottleneck).",
        "",
        table(["streams", "setup", "completed", "peak open", "first byte p50",
               "first byte p95", "all done in", "serving CPU per stream",
               "load generator CPU"], stream_rows),
        "",
        f"Check: {check_text}.",
    ])
