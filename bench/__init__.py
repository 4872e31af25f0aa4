"""Benchmarks of the automation engine: `python -m bench` (see bench/README.md)."""
