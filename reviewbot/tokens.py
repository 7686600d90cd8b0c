"""Token estimates where no tokenizer is at hand. Imports nothing of ours."""

from __future__ import annotations

import math


def estimate_tokens(text: str) -> int:
    """Without a tokenizer (backend none or fake): about 3.5 characters a token for code."""
    return math.ceil(len(text) / 3.5)
