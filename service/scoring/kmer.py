"""The k-mer baseline: a smoothed order-k Markov model of DNA that runs on any CPU with numpy only.

A development baseline, not a pathogenicity predictor: it lets the service, the clients and the
benchmarks run end to end without a GPU, with the same per-position semantics as Evo 2
(``service.scoring.base``): element ``i`` of ``log_probs`` is ``log p(x[i+1] | x[:i+1])``, here
restricted to the last ``order`` bases of that prefix.

The packaged table (``service/data/kmer/table.npz``, built by ``scripts/train_kmer.py``, provenance
in ``service/data/kmer/README.md``) stores raw counts; smoothing happens at load time:

* ``counts_j`` (``j = 0..order``) has shape ``(4**j, 4)``: row = the ``j`` preceding bases as a
  base-4 number over ``ACGT`` (oldest base most significant, so ``"AC"`` is row 1), column = the
  next base. Contexts never span an N, a region boundary or an excluded region.
* Interpolated add-alpha (hierarchical Dirichlet) smoothing, backing off by dropping the oldest base::

      p_j(x | c) = (n_j(c, x) + alpha * p_{j-1}(x | c[1:])) / (n_j(c) + alpha),   p_{-1}(x) = 1/4

  so every context's four probabilities sum to 1, including contexts never seen in training.

Scoring: the context of a base is the up to ``order`` bases before it, cut after the last base that is
not A/C/G/T (either case), so the first scored base uses a one-base context. A target that is not
A/C/G/T gets ``log(1/4)``.
"""

from __future__ import annotations

import functools
import io
import json
import math
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from service.errors import LimitExceeded, ModelUnavailable
from service.scoring.base import ScorerStats

ALPHABET = "ACGT"
#: Code of any character that is not A/C/G/T (upper or lower case).
UNKNOWN = 4
#: File name of the packaged table inside ``service/data/kmer/``.
DEFAULT_TABLE = "table.npz"
#: Longest sequence one call accepts (the model itself has no limit).
MAX_LENGTH = 1_000_000
DISCLAIMER = "a development baseline, not a pathogenicity predictor"
#: Bases scored per numpy pass (longer sequences go alone); bounds temporary memory to a few MB.
_CHUNK_BASES = 1 << 16

_CODES = np.full(256, UNKNOWN, dtype=np.uint8)
for _i, _base in enumerate(ALPHABET):
    _CODES[ord(_base)] = _i
    _CODES[ord(_base.lower())] = _i


def encode(seq: str) -> np.ndarray:
    """Codes 0-3 for A/C/G/T (either case) and ``UNKNOWN`` for anything else; one code per character."""
    raw = seq.encode("ascii", errors="replace")  # one byte per character; non-ASCII becomes "?"
    return _CODES[np.frombuffer(raw, dtype=np.uint8)]


def context_lengths(codes: np.ndarray, order: int) -> np.ndarray:
    """For each position t, how many bases before t form its context: ``min(order, t - last_unknown - 1)``.

    ``last_unknown`` is the index of the last non-ACGT code before ``t`` (-1 when there is none).
    """
    n = codes.size
    positions = np.arange(n, dtype=np.int64)
    last = np.maximum.accumulate(np.where(codes == UNKNOWN, positions, -1))
    before = np.empty(n, dtype=np.int64)
    before[:1] = -1
    before[1:] = last[:-1]
    lengths: np.ndarray = np.minimum(order, positions - before - 1)
    return lengths


def context_indices(codes: np.ndarray, order: int) -> np.ndarray:
    """For each position t, the ``order`` bases before t as a base-4 number, most recent base least
    significant (unknown bases and missing positions count as 0: ``context_lengths`` masks them off).

    The context of length ``j`` is ``index & (4**j - 1)``, the row of ``counts_j``.
    """
    digits = np.where(codes == UNKNOWN, 0, codes).astype(np.int64)
    index = np.zeros(codes.size, dtype=np.int64)
    for back in range(1, min(order, codes.size) + 1):
        index[back:] |= digits[:-back] << (2 * (back - 1))
    return index


def smoothed_log_probs(counts: Sequence[np.ndarray], alpha: float) -> list[np.ndarray]:
    """Per order j, the ``(4**j, 4)`` array of ``log p_j(x | c)`` (see the module docstring)."""
    lower = np.full((1, 4), 0.25)
    tables = []
    for j, table in enumerate(counts):
        n = np.asarray(table, dtype=np.float64)
        if n.shape != (4**j, 4):
            raise ValueError(f"counts_{j} has shape {n.shape}, expected {(4**j, 4)}")
        # Row r of order j backs off to row r mod 4**(j-1) of order j-1 (drop the oldest base).
        prior = np.tile(lower, (4, 1)) if j else lower
        probs = (n + alpha * prior) / (n.sum(axis=1, keepdims=True) + alpha)
        tables.append(probs)
        lower = probs
    return [np.log(p) for p in tables]


@dataclass(frozen=True)
class KmerTable:
    """Counts, metadata and the flat lookup table derived from them (read-only arrays)."""

    order: int
    alpha: float
    counts: tuple[np.ndarray, ...]
    metadata: dict[str, Any]
    #: Flattened ``log p`` over all orders: ``offsets[j] + row * 5 + x``; column 4 is ``log(1/4)``.
    flat: np.ndarray
    offsets: np.ndarray
    masks: np.ndarray

    @classmethod
    def from_counts(cls, counts: Sequence[np.ndarray], metadata: dict[str, Any]) -> KmerTable:
        order = int(metadata["order"])
        alpha = float(metadata["smoothing"]["alpha"])
        if len(counts) != order + 1:
            raise ValueError(f"expected {order + 1} count arrays for order {order}, got {len(counts)}")
        if not alpha > 0:
            raise ValueError(f"smoothing alpha must be positive, got {alpha}")
        logs = smoothed_log_probs(counts, alpha)
        unknown_target = math.log(0.25)
        blocks = [np.hstack([lp, np.full((lp.shape[0], 1), unknown_target)]).ravel() for lp in logs]
        flat = np.concatenate(blocks)
        offsets = np.cumsum([0, *(b.size for b in blocks[:-1])]).astype(np.int64)
        masks = np.array([4**j - 1 for j in range(order + 1)], dtype=np.int64)
        frozen = tuple(np.array(c, dtype=np.uint32) for c in counts)
        for array in (flat, offsets, masks, *frozen):
            array.setflags(write=False)
        return cls(order, alpha, frozen, metadata, flat, offsets, masks)

    @classmethod
    def from_npz(cls, data: bytes) -> KmerTable:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            metadata = json.loads(str(npz["metadata"].item()))
            order = int(metadata["order"])
            counts = [npz[f"counts_{j}"] for j in range(order + 1)]
        return cls.from_counts(counts, metadata)

    def log_probs(self, codes: np.ndarray) -> np.ndarray:
        """``log p(codes[t] | context)`` for every position t of one code array (float64, same length)."""
        lengths = context_lengths(codes, self.order)
        rows = context_indices(codes, self.order) & self.masks[lengths]
        out: np.ndarray = self.flat[self.offsets[lengths] + rows * 5 + codes]
        return out


def packaged_table_bytes() -> bytes:
    return resources.files("service").joinpath("data", "kmer", DEFAULT_TABLE).read_bytes()


@functools.lru_cache(maxsize=8)
def _load_table(key: str | None) -> KmerTable:
    try:
        data = packaged_table_bytes() if key is None else Path(key).read_bytes()
    except OSError as exc:
        where = "the packaged k-mer table" if key is None else f"k-mer table {Path(key).name}"
        raise ModelUnavailable(f"{where} could not be read") from exc
    try:
        return KmerTable.from_npz(data)
    except (ValueError, KeyError, TypeError, OSError, zipfile.BadZipFile) as exc:
        raise ModelUnavailable("the k-mer table is malformed") from exc


def _chunks(seqs: Sequence[str], bases: int) -> Iterator[Sequence[str]]:
    """Consecutive runs of ``seqs`` of about ``bases`` characters each (bounded memory, cache-friendly)."""
    first, size = 0, 0
    for i, seq in enumerate(seqs):
        size += len(seq) + 1
        if size >= bases:
            yield seqs[first : i + 1]
            first, size = i + 1, 0
    if first < len(seqs):
        yield seqs[first:]


class KmerScorer:
    """Implements ``service.scoring.base.Scorer`` with a smoothed order-k Markov model."""

    max_length: int = MAX_LENGTH

    def __init__(self, table: KmerTable) -> None:
        self.table = table
        self.name = f"kmer-{table.order}"
        self.stats = ScorerStats()

    @classmethod
    def load(cls, path: str | Path | None = None) -> KmerScorer:
        """A scorer over the table at ``path`` (default: the packaged table).

        Tables are read once per path and shared; each scorer keeps its own ``stats``.
        Raises ``ModelUnavailable`` when the table cannot be read.
        """
        key = None if path is None else str(Path(path).resolve())
        return cls(_load_table(key))

    @property
    def order(self) -> int:
        return self.table.order

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        started = time.perf_counter()
        lengths = [len(s) for s in seqs]
        too_long = [n for n in lengths if n > self.max_length]
        if too_long:
            raise LimitExceeded(
                f"sequence of {max(too_long)} bases exceeds the {self.name} limit of {self.max_length}",
                detail={"length": max(too_long), "max_length": self.max_length},
            )
        results: list[np.ndarray] = []
        for chunk in _chunks(seqs, _CHUNK_BASES):
            # One pass per chunk of sequences joined by an unknown base, which resets the context.
            joined = self.table.log_probs(encode("N".join(chunk)))
            start = 0
            for seq in chunk:
                results.append(joined[start + 1 : start + len(seq)].copy())
                start += len(seq) + 1
        self.stats.record(
            sequences=len(seqs), forward_passes=1, tokens=sum(lengths), seconds=time.perf_counter() - started
        )
        return results

    def describe(self) -> dict[str, Any]:
        meta = self.table.metadata
        return {
            "model": self.name,
            "kind": "k-mer Markov model",
            "note": f"{self.name} is {DISCLAIMER}",
            "order": self.order,
            "context": self.order,
            "device": "cpu",
            "dtype": "float64",
            "max_length": self.max_length,
            "smoothing": meta.get("smoothing"),
            "training": {
                "files": [f.get("name") for f in meta.get("training_files", [])],
                "excluded": meta.get("excluded", []),
                "strands": meta.get("strands"),
                "positions": meta.get("training_positions"),
            },
            "heldout": meta.get("heldout", []),
            "requirements": "numpy; no GPU",
        }
