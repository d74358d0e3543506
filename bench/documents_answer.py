"""Grounded answer on the embedded chat model: time to first token and total time.

The prompt is the product's: `civique.chat.grounded.retrieve` (hybrid search, default number of
passages, excerpts around the query words) then `build_prompt` (fixed system prompt, sources as
delimited data). The first question of the run reads the whole prompt; later ones can reuse the
cached system prompt, as in production.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bench.documents_env import CHAT_MODEL, Env
from civique.chat import grounded
from civique.llm.gateway import Completed
from civique.llm.types import ChatMessage, ChatParams, Delta

MAX_TOKENS = 160


@dataclass
class Answer:
    """One grounded answer: prompt size, seconds to the first token and in all, tokens written."""

    question: str
    passages: int
    prompt_tokens: int
    first_token: float
    total: float
    tokens: int
    status: str


async def _stream(
    env: Env, messages: list[ChatMessage], max_tokens: int = MAX_TOKENS
) -> tuple[float, float, Completed | None, int]:
    started = time.perf_counter()
    first = 0.0
    tokens = 0
    done: Completed | None = None
    params = ChatParams(max_tokens=max_tokens, temperature=0.0)
    async for event in env.gateway.stream_chat(env.call, CHAT_MODEL, messages, params):
        if isinstance(event, Delta):
            first = first or time.perf_counter() - started
            tokens += 1
        elif isinstance(event, Completed):
            done = event
    return first, time.perf_counter() - started, done, tokens


async def answer(env: Env, collection_id: int, question: str) -> Answer:
    """Retrieve the default passages, build the grounded prompt, stream the answer."""
    with env.sessions() as session:
        passages = await grounded.retrieve(
            env.gateway, session, env.user(session), env.call, question, [collection_id])
    messages = grounded.build_prompt(passages, question)
    first, total, done, tokens = await _stream(env, messages)
    return Answer(question, len(passages), done.tokens_in if done else 0, first, total, tokens,
                  done.status if done else "none")


FREE_CHAT = [ChatMessage("user", "Écris trois phrases sur le lac Léman.")]


def run(env: Env, collection_id: int, questions: list[str]) -> list[Answer]:
    """As after `civique serve`: the model loaded, the fixed prefix read by the start's warm-up
    (timed as its own row), then each question in turn; then a free chat, and the first question
    again, to show that the free chat did not push the fixed prefix out."""
    loop = asyncio.new_event_loop()
    try:
        # Loading the model is not part of an answer: a 1-token call loads it first.
        loop.run_until_complete(_stream(env, [ChatMessage("user", "Bonjour.")], 1))
        started = time.perf_counter()
        loop.run_until_complete(grounded.warm_up(env.gateway))
        warm = Answer("(warm-up at start, before any question)", 0, 0, 0.0,
                      time.perf_counter() - started, 1, "warm-up")
        answers = [loop.run_until_complete(answer(env, collection_id, q)) for q in questions]
        first, total, done, tokens = loop.run_until_complete(_stream(env, FREE_CHAT))
        free = Answer("(free chat, no documents)", 0, done.tokens_in if done else 0, first,
                      total, tokens, done.status if done else "none")
        again = loop.run_until_complete(answer(env, collection_id, questions[0]))
        again.question = f"(after the free chat) {questions[0]}"
        return [warm, *answers, free, again]
    finally:
        loop.close()
