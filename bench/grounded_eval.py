"""Grounded answers on the demo commune's questions: are the citations right, is "not found" said?

`python -m bench.grounded_eval`: indexes the seven demo documents with the embedded e5 model, asks
every question of `civique/demo_documents/questions.json` through the product's grounded path
(`grounded.retrieve` → `build_prompt` → the embedded chat model → `verify`) and counts:
- answerable questions whose passages hold the answer (retrieval), and those whose answer kept a
  verified citation on the right document and page;
- answerable questions answered "not found" (a miss, not an invention);
- out-of-scope questions answered "not found" (the right answer) or with citations.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import table
from bench.documents_env import CHAT_MODEL, ingest_files, new_collection, open_env
from civique.chat import grounded
from civique.demo_documents import demo_files, demo_questions
from civique.llm.gateway import Completed
from civique.llm.types import ChatParams, Delta


async def _ask(env: Any, collection: int, question: str) -> dict[str, Any]:
    with env.sessions() as session:
        passages = await grounded.retrieve(
            env.gateway, session, env.user(session), env.call, question, [collection])
    started = time.perf_counter()
    first = 0.0
    text = ""
    params = ChatParams(max_tokens=200, temperature=0.0)
    messages = grounded.build_prompt(passages, question)
    async for event in env.gateway.stream_chat(env.call, CHAT_MODEL, messages, params):
        if isinstance(event, Delta):
            first = first or time.perf_counter() - started
        elif isinstance(event, Completed):
            text = event.text
    verdict = grounded.verify(text, passages, "?")
    return {"passages": passages, "verdict": verdict, "first": first,
            "total": time.perf_counter() - started, "text": text}


def _right_place(result: dict[str, Any], question: dict[str, Any]) -> bool:
    by_number = {p.number: p for p in result["passages"]}
    return any(
        c.verified and by_number[c.index].hit.filename == question["document"]
        and (question["page"] is None or c.page == question["page"])
        for c in result["verdict"].citations
    )


def run() -> str:
    """Ask every demo question; the Markdown table of the outcomes."""
    data_dir = Path(tempfile.mkdtemp(prefix="civique-grounded-"))
    try:
        env = open_env(data_dir)
        collection = new_collection(env, "Commune")
        ingest_files(env, collection, demo_files())
        rows, counts = [], {"retrieved": 0, "cited": 0, "missed": 0, "oos_nf": 0, "oos": 0}
        answerable = 0
        for question in demo_questions():
            result = asyncio.run(_ask(env, collection, question["question"]))
            verdict = result["verdict"]
            if question["document"] is None:
                counts["oos"] += 1
                counts["oos_nf"] += verdict.not_found
                outcome = "not found (right)" if verdict.not_found else "answered (wrong)"
            else:
                answerable += 1
                held = any(question["answer_contains"] in p.hit.text for p in result["passages"])
                counts["retrieved"] += held
                right = _right_place(result, question)
                counts["cited"] += right
                counts["missed"] += verdict.not_found
                outcome = ("verified citation, right page" if right else
                           "said not found" if verdict.not_found else "no right citation")
            rows.append([question["question"][:60], outcome, f"{result['first']:.1f} s",
                         f"{result['total']:.1f} s"])
            print(f"  {outcome:32} {question['question'][:70]}", flush=True)
        summary = [
            ["answerable: answer in the passages given", f"{counts['retrieved']} / {answerable}"],
            ["answerable: verified citation on the right document and page",
             f"{counts['cited']} / {answerable}"],
            ["answerable: answered 'not found'", f"{counts['missed']} / {answerable}"],
            ["out of scope: answered 'not found'", f"{counts['oos_nf']} / {counts['oos']}"],
        ]
        return (table(["outcome", "questions"], summary) + "\n\n"
                + table(["question", "outcome", "first token", "total"], rows))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    print(run())
    sys.exit(0)
