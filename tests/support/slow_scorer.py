"""A scorer made slow on purpose (load tests and the load benchmark)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np


class SlowScorer:
    """Wraps a scorer; every call into the model takes ``delay`` seconds more."""

    def __init__(self, inner: Any, delay: float) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_length = inner.max_length
        self.stats = inner.stats
        self.delay = delay

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        time.sleep(self.delay)
        result: list[np.ndarray] = self.inner.log_probs(seqs)
        return result

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "slowed_by_s": self.delay}
