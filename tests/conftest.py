"""Fixtures shared across the test packages; their data lives in samples.py (importable by name,
since this file puts tests/ on sys.path)."""

from __future__ import annotations

import pytest
from support.samples import CALC, empty, sample

from reviewbot.model import Result


@pytest.fixture
def calc_diff() -> str:
    """The pkg/calc.py diff: one hunk, one changed line (new line 24)."""
    return CALC


@pytest.fixture
def sample_result() -> Result:
    """A Result with findings on both sides, a suggestion, an unanchored finding, skips and a note."""
    return sample()


@pytest.fixture
def empty_result() -> Result:
    return empty()
