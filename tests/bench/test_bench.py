"""The benchmark helpers, and a quick run of the web-tier benchmark against a real server."""

from __future__ import annotations

import math

import pytest

from bench import web
from bench.common import median, percentile, table


def test_percentiles_use_the_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert percentile(values, 50) == 50.0 and percentile(values, 95) == 95.0
    assert percentile(values, 100) == 100.0 and percentile(values, 0) == 1.0
    assert percentile([7.0], 95) == 7.0 and math.isnan(percentile([], 50))
    assert median([3.0, 1.0, 2.0]) == 2.0


def test_tables_right_align_numeric_columns() -> None:
    text = table(["setup", "requests/s"], [["baseline", 1234.5], ["Civique", 12.345]])
    assert text.splitlines() == [
        "| setup | requests/s |", "|---|---:|", "| baseline | 1,234 |", "| Civique | 12.3 |"]


def test_the_fake_answer_has_the_announced_length() -> None:
    assert web.REPLY_TOKENS == 40


@pytest.mark.slow
def test_quick_web_bench_answers_and_records_every_call() -> None:
    markdown, numbers = web.run(quick=True)
    assert all(load.errors == 0 and load.calls > 0 for load in numbers["requests"].values())
    assert all(s.completed == s.started for s in numbers["streams"].values())
    assert all(written == answered for written, answered in numbers["checks"].values())
    assert "Civique, 2 workers" in markdown
