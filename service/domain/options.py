"""How a delta is computed: the request's options, their defaults and the window limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from service.errors import LimitExceeded

DeltaMethod = Literal["window", "suffix"]
#: The request defaults (the Evo 2 BRCA1 notebook's): whole-window means, forward strand only.
DEFAULT_DELTA_METHOD: DeltaMethod = "window"
DEFAULT_REVERSE_COMPLEMENT = False


@dataclass(frozen=True)
class DeltaOptions:
    genome: str
    window: int
    delta_method: DeltaMethod = DEFAULT_DELTA_METHOD
    reverse_complement: bool = DEFAULT_REVERSE_COMPLEMENT
    #: Also reduce each pair the other way (``VariantScore.method_deltas``: the benchmark's noise figure;
    #: ~0.1 ms a variant, so off for requests).
    both_methods: bool = False


@dataclass(frozen=True)
class WindowLimits:
    """Window lengths a request may ask for (even bp); ``default`` when it asks for none."""

    default: int
    min: int
    max: int

    def check(self, window: int | None) -> int:
        value = self.default if window is None else window
        if value % 2 or not self.min <= value <= self.max:
            raise LimitExceeded(
                f"window must be an even number of bp from {self.min} to {self.max}, got {value}",
                detail={"window": value, "min_window": self.min, "max_window": self.max},
            )
        return value
