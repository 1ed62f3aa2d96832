"""What a benchmark run scores and how."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from service.domain.options import DeltaMethod, DeltaOptions
from service.jobs.benchmark.findlay import GENOME
from service.jobs.benchmark.selection import Subset


@dataclass(frozen=True)
class BenchmarkOptions:
    """What to score and how. ``n=None`` scores all 3,893 SNVs."""

    n: int | None = None
    #: See ``selection.Subset``.
    subset: Subset = "first"
    seed: int = 0
    window: int = 8192
    delta_method: DeltaMethod = "window"
    reverse_complement: bool = False
    #: Variants per model call (one resume checkpoint each); the scorer batches windows itself.
    batch_size: int = 64
    folds: int = 5
    #: Resume file; ``None`` keeps deltas in memory only.
    deltas_path: Path | None = None

    def delta_options(self) -> DeltaOptions:
        """The engine's options; both reductions of each pair, for the window/suffix noise figure."""
        return DeltaOptions(
            GENOME, self.window, self.delta_method, self.reverse_complement, both_methods=True
        )

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out["deltas_path"] = str(self.deltas_path) if self.deltas_path else None
        return out
