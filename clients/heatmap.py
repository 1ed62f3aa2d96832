"""A saturation-mutagenesis heatmap (PNG) from a ``POST /saturation`` response.

Columns are the region's positions (1-based), rows the alternate bases A, C, G, T; colour is the delta
(alt − ref mean log-likelihood) on a diverging scale centred on 0, red where the model finds the
variant less likely. Reference cells (no variant) are grey with a dot. Uses matplotlib's Agg canvas
directly (no pyplot state, no display needed); matplotlib is imported only when a plot is drawn
(``pip install 'evo2-variant-service[plots]'``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: Positions up to which every column is labelled with its reference base.
LABEL_EVERY_BASE = 60


def _matrix(response: Mapping[str, Any]) -> tuple[list[int], list[str], str, list[list[float]]]:
    try:
        positions = [int(p) for p in response["positions"]]
        alleles = [str(a) for a in response["alleles"]]
        ref = str(response["ref"])
        deltas: Sequence[Sequence[float | None]] = response["deltas"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a /saturation response: {exc}") from None
    if not positions or len(ref) != len(positions) or len(deltas) != len(positions):
        raise ValueError("a /saturation response needs one ref base and one row of deltas per position")
    rows = []
    for row in deltas:
        if len(row) != len(alleles):
            raise ValueError(f"each row of deltas needs {len(alleles)} values (one per allele)")
        rows.append([math.nan if v is None else float(v) for v in row])
    return positions, alleles, ref, rows


def render_saturation_png(response: Mapping[str, Any], path: str | Path, *, dpi: int = 150) -> Path:
    """Draw the heatmap of a /saturation ``response`` (the JSON as a dict) into the PNG file ``path``."""
    try:
        import numpy as np
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import TwoSlopeNorm
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("plots need matplotlib: pip install 'evo2-variant-service[plots]'") from exc

    positions, alleles, ref, rows = _matrix(response)
    values = np.array(rows, dtype=float).T  # alleles × positions
    finite = np.abs(values[np.isfinite(values)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    n = len(positions)

    fig = Figure(figsize=(min(24.0, max(6.0, 2.5 + 0.14 * n)), 3.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cmap = _colormap()
    image = ax.imshow(
        np.ma.masked_invalid(values),
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit),
    )
    marks = [(i, alleles.index(base)) for i, base in enumerate(ref) if base in alleles]
    if marks:
        xs, ys = zip(*marks, strict=True)
        ax.scatter(xs, ys, s=max(2.0, min(24.0, 2000.0 / n)), c="black", marker="o", linewidths=0)
    ax.set_yticks(range(len(alleles)), alleles)
    ax.set_ylabel("alt base")
    chrom = response.get("chrom", "")
    if n <= LABEL_EVERY_BASE:
        ax.set_xticks(range(n), list(ref), fontsize=7)
        ax.set_xlabel(f"reference base, {chrom}:{positions[0]:,}-{positions[-1]:,} (1-based)")
    else:
        ticks = np.linspace(0, n - 1, num=min(10, n)).round().astype(int)
        ax.set_xticks(ticks, [f"{positions[i]:,}" for i in ticks], fontsize=7)
        ax.set_xlabel(f"position on {chrom} (1-based)")
    title = " · ".join(
        str(part)
        for part in (
            response.get("region"),
            response.get("genome"),
            response.get("model"),
            f"{response['window']:,}-bp windows" if response.get("window") else None,
            f"delta method: {response['delta_method']}" if response.get("delta_method") else None,
        )
        if part
    )
    ax.set_title(title or "saturation mutagenesis", fontsize=9)
    bar = fig.colorbar(image, ax=ax, pad=0.01)
    bar.set_label("delta (alt − ref)", fontsize=8)
    out = Path(path)
    fig.savefig(out, format="png", dpi=dpi)
    return out


def _colormap() -> Any:
    from matplotlib import colormaps

    # Low (negative delta) red, high blue; masked cells (the reference bases) grey.
    return colormaps["RdBu"].with_extremes(bad="#d9d9d9")
