"""Rebuild the k-mer baseline table (``service/data/kmer/table.npz``) from FASTA files.

Counts every (j+1)-mer, j = 0..order, on both strands of every record, never across a non-ACGT base
(N runs) or an excluded region, and writes the counts plus JSON metadata as a deterministic .npz
(no timestamps, file names without directories), so the same inputs give the same bytes.

A record whose header starts with ``chrom:start-end`` (1-based inclusive, e.g. ``>chr17:42425000-43600000``
or ``>22:20000001-21000000``) is placed at those coordinates, otherwise at ``start = 1``. ``--exclude`` takes
1-based inclusive regions; ``chr`` prefixes are ignored when matching chromosome names.

Example (the packaged table; see ``service/data/kmer/README.md``)::

    python scripts/train_kmer.py \\
        --fasta tests/data/hg19_chr22_20000001-21000000.fa \\
        --fasta tests/data/hg38_chr17_42425000-43600000.fa \\
        --exclude chr17:42944295-43225483 --order 8 \\
        --heldout service/data/genome/hg38_chr17_43040000-43130000.fa \\
        --out service/data/kmer/table.npz
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from service.scoring.kmer import UNKNOWN, KmerTable, context_indices, context_lengths, encode

DEFAULT_ALPHA = 64.0
SMOOTHING = "interpolated add-alpha (hierarchical Dirichlet) backoff to order j-1 by dropping the oldest base"
_REGION = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>[\d,]+)-(?P<end>[\d,]+)$")


@dataclass(frozen=True)
class Region:
    """1-based inclusive."""

    chrom: str
    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Region:
        match = _REGION.match(text.strip())
        if not match:
            raise ValueError(f"expected chrom:start-end (1-based inclusive), got {text!r}")
        start, end = (int(match[g].replace(",", "")) for g in ("start", "end"))
        if not 1 <= start <= end:
            raise ValueError(f"bad region {text!r}: need 1 <= start <= end")
        return cls(match["chrom"], start, end)

    def __str__(self) -> str:
        return f"{self.chrom}:{self.start}-{self.end}"


def same_chrom(a: str, b: str) -> bool:
    def strip(name: str) -> str:
        return name[3:] if name.lower().startswith("chr") else name

    return strip(a).lower() == strip(b).lower()


@dataclass(frozen=True)
class Record:
    header: str
    seq: str

    @property
    def region(self) -> Region:
        """Where the record lies: from its header, else ``name:1-len``."""
        first = self.header.split()[0] if self.header.split() else "unnamed"
        try:
            region = Region.parse(first)
        except ValueError:
            return Region(first, 1, max(len(self.seq), 1))
        if region.end - region.start + 1 != len(self.seq):
            raise ValueError(
                f"header {first!r} spans {region.end - region.start + 1} bp, sequence has {len(self.seq)}"
            )
        return region


def read_fasta(path: Path) -> list[Record]:
    records: list[Record] = []
    header: str | None = None
    chunks: list[str] = []
    with path.open(encoding="ascii") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                if header is not None:
                    records.append(Record(header, "".join(chunks)))
                header, chunks = line[1:], []
            elif line:
                if header is None:
                    raise ValueError(f"{path.name}: sequence before the first header")
                chunks.append(line)
    if header is not None:
        records.append(Record(header, "".join(chunks)))
    return records


def masked_codes(record: Record, excludes: Sequence[Region]) -> tuple[np.ndarray, int]:
    """The record's codes with excluded positions set to ``UNKNOWN``, and how many bases were excluded."""
    codes = encode(record.seq).copy()
    region = record.region
    excluded = 0
    for ex in excludes:
        if not same_chrom(ex.chrom, region.chrom):
            continue
        lo, hi = max(ex.start, region.start) - region.start, min(ex.end, region.end) - region.start + 1
        if lo < hi:
            excluded += hi - lo
            codes[lo:hi] = UNKNOWN
    return codes, excluded


def reverse_complement_codes(codes: np.ndarray) -> np.ndarray:
    rc = codes[::-1].copy()
    known = rc != UNKNOWN
    rc[known] = 3 - rc[known]
    return rc


def count_kmers(code_arrays: Sequence[np.ndarray], order: int) -> list[np.ndarray]:
    """``counts[j][row, x]``: positions whose j preceding bases (no unknown among them) are ``row``
    (base 4, oldest most significant) and whose base is ``x``."""
    counts = [np.zeros(4 ** (j + 1), dtype=np.int64) for j in range(order + 1)]
    for codes in code_arrays:
        lengths = context_lengths(codes, order)
        index = context_indices(codes, order)
        known = codes != UNKNOWN
        for j in range(order + 1):
            keep = known & (lengths >= j)
            cells = ((index[keep] & (4**j - 1)) << 2) | codes[keep]
            counts[j] += np.bincount(cells, minlength=4 ** (j + 1))
    return [c.reshape(4**j, 4).astype(np.uint32) for j, c in enumerate(counts)]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train(
    fastas: Sequence[Path], excludes: Sequence[Region], order: int, alpha: float = DEFAULT_ALPHA
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Counts and metadata for a table trained on ``fastas`` (both strands) minus ``excludes``."""
    arrays: list[np.ndarray] = []
    files = []
    for path in fastas:
        described = []
        for record in read_fasta(path):
            codes, excluded = masked_codes(record, excludes)
            arrays += [codes, reverse_complement_codes(codes)]
            described.append(
                {
                    "id": record.header.split()[0] if record.header.split() else "",
                    "region": str(record.region),
                    "length": len(record.seq),
                    "excluded_bases": excluded,
                    "acgt_bases_used": int((codes != UNKNOWN).sum()),
                }
            )
        files.append({"name": path.name, "sha256": sha256(path), "records": described})
    counts = count_kmers(arrays, order)
    metadata: dict[str, Any] = {
        "format": "kmer-counts/1",
        "order": order,
        "alphabet": "ACGT",
        "strands": "both",
        "smoothing": {"method": SMOOTHING, "alpha": alpha},
        "training_files": files,
        "excluded": [str(r) for r in excludes],
        "training_positions": int(counts[0].sum()),
    }
    return counts, metadata


def heldout_log_likelihood(table: KmerTable, path: Path) -> dict[str, Any]:
    """Mean log p per scored base (nats; element t >= 1 of each record, as the scorer computes it)."""
    forward, both = [], []
    for record in read_fasta(path):
        codes = encode(record.seq)
        for strand in (codes, reverse_complement_codes(codes)):
            lp = table.log_probs(strand)[1:]
            both.append(lp)
            if strand is codes:
                forward.append(lp)
    mean = float(np.concatenate(forward).mean())
    return {
        "name": path.name,
        "sha256": sha256(path),
        "positions": int(sum(a.size for a in forward)),
        "log_likelihood_per_base": round(mean, 6),
        "log_likelihood_per_base_both_strands": round(float(np.concatenate(both).mean()), 6),
        "bits_per_base": round(-mean / np.log(2), 6),
    }


def write_table(path: Path, counts: Sequence[np.ndarray], metadata: dict[str, Any]) -> None:
    """An .npz that ``numpy.load`` reads, with fixed zip timestamps so equal inputs give equal bytes."""
    arrays = {f"counts_{j}": c for j, c in enumerate(counts)}
    arrays["metadata"] = np.array(json.dumps(metadata, sort_keys=True, separators=(",", ":")))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fasta", action="append", required=True, type=Path, help="training FASTA (repeat)")
    parser.add_argument(
        "--exclude", action="append", default=[], type=Region.parse, help="chrom:start-end, 1-based inclusive"
    )
    parser.add_argument("--order", type=int, default=8, help="context length k (default 8)")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="smoothing strength (default 64)")
    parser.add_argument(
        "--heldout", action="append", default=[], type=Path, help="FASTA to report on (repeat)"
    )
    parser.add_argument("--out", required=True, type=Path, help="output .npz")
    args = parser.parse_args(argv)
    if not 0 <= args.order <= 12:
        parser.error("--order must be between 0 and 12")
    if not args.alpha > 0:
        parser.error("--alpha must be positive")

    counts, metadata = train(args.fasta, args.exclude, args.order, args.alpha)
    table = KmerTable.from_counts(counts, metadata)
    metadata["heldout"] = [heldout_log_likelihood(table, path) for path in args.heldout]
    write_table(args.out, counts, metadata)

    print(f"order {args.order}, alpha {args.alpha:g}: {metadata['training_positions']:,} training positions")
    for item in metadata["heldout"]:
        print(
            f"held out {item['name']}: {item['log_likelihood_per_base']:.6f} nats/base "
            f"({item['bits_per_base']:.4f} bits; uniform {np.log(0.25):.6f})"
        )
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
