"""Civique benchmarks: `python -m bench` (`make bench`) prints tables, writes docs/benchmarks.md."""
