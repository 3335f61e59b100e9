"""Reliability tests: hub's clients against a sandbox that injects faults."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # registered here rather than in pyproject.toml so the marker lives with the tests that use it
    config.addinivalue_line("markers", "soak: the bounded fault soak (ingest + build + push under chaos); "
                                       "run alone with `pytest -m soak`")
