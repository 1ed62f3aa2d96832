"""A stand-in for the UCSC Genome Browser REST API, on a real socket on 127.0.0.1.

It speaks UCSC's formats (key order, ``downloadTime`` as ``YYYY:MM:DDTHH:MM:SSZ``, the JSON error layout
and messages of UCSC's server source, kent ``src/hg/hubApi``; byte layouts in ``tests/data/ucsc/``) and
serves REAL sequence from the FASTA slices in this repository, soft-masked as UCSC's is (lower case
where ``(pos // 500) % 7 == 3``, ``pos`` 0-based), so clients must upper-case. A request that overlaps a
slice but runs past it gets N for the bases the slice lacks (clients fetch aligned tiles); a request
overlapping no slice is answered 500 ("stand-in has no data for …"): a bug in the test that asked.

Modes (constructor arguments) for the politeness and coverage tests:

* ``coverage="slices"``: an independent mirror that holds only the slices: a request not entirely inside
  one is answered 500 (no N filling);
* ``synthetic=True``: regions the slices do not hold are served deterministic pseudo-random bases
  (``synthetic_bases``), so batches spread over whole chromosomes can be served;
* ``rate_limit=RateLimit(per_second, burst)``: UCSC's bot delay: beyond the rate, 429 with
  ``Retry-After: 30`` and UCSC's message (``throttled`` counts them);
* ``latency``: every answer takes this many seconds (a healthy but slow upstream).

``max_in_flight`` is the most requests the stand-in was answering at once; ``times`` when each came;
``GET /_standin/stats`` (not UCSC's; not counted) answers these counters for a benchmark in another
process.

Faults are injected from the test::

    with UcscServer() as server:
        server.inject(Fault("status", status=429, retry_after=1), times=2)
        ...
        assert server.count("/getData/sequence") == 3

Kinds: ``status`` (answer ``status`` with UCSC's error layout, optional ``Retry-After`` and ``message``),
``slow`` (wait ``delay`` seconds, then answer normally), ``reset`` (close the socket with a TCP reset,
no answer), ``invalid_json``, ``truncate_dna`` / ``extend_dna`` (``length`` bases fewer / more),
``n_run`` (replace ``length`` bases from ``offset`` by N), ``wrong_echo`` (echo ``start``/``end``
shifted by one). A fault applies to the next ``times`` matching requests (``None``: until cleared).

Run standalone for benchmarks: ``python -m tests.support.ucsc_server --port 8765``.
"""

from __future__ import annotations

import argparse
import calendar
import functools
import http
import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote_plus, urlsplit

import pytest

from tests.support import ucsc_tracks

ROOT = Path(__file__).resolve().parents[2]
FASTA_SLICES = (
    ("hg38", ROOT / "service/data/genome/hg38_chr17_43040000-43130000.fa"),
    ("hg19", ROOT / "service/data/genome/hg19_chr17_41190000-41285000.fa"),
    ("hg38", ROOT / "tests/data/hg38_chr17_42425000-43600000.fa"),
    ("hg19", ROOT / "tests/data/hg19_chr22_20000001-21000000.fa"),
)
CHROM_SIZES = ROOT / "service/data/genome/chrom_sizes.tsv"
#: Real hg19 bases around the variants counsyl/hgvs tests (its ``test_name_to_variant.genome``:
#: chrom, 0-based start, end, bases), served beside the FASTA slices.
SNIPPETS = ROOT / "tests/data/counsyl/test_name_to_variant.genome"

SEQUENCE = "/getData/sequence"
CHROMOSOMES = "/list/chromosomes"
STATS = "/_standin/stats"
SEQUENCE_ARGS = ("genome", "chrom", "start", "end", "revComp")
CHROMOSOMES_ARGS = ("genome",)
MAX_DNA_LENGTH = 499_999_999
#: When the stand-in's chromInfo tables were "updated" (``dataTime`` of /list/chromosomes).
DATA_TIME = "2024-01-01T00:00:00"
HOG_MESSAGE = (
    "Your host, {host}, has been sending too many requests lately and is unfairly loading our site, "
    "impacting performance for other users. Please contact genome-www@soe.ucsc.edu to ask that your "
    "site be reenabled.  Also, please consider downloading sequence and/or annotations in bulk -- see "
    "http://genome.ucsc.edu/downloads.html."
)

FaultKind = Literal[
    "status", "slow", "reset", "invalid_json", "truncate_dna", "extend_dna", "n_run", "wrong_echo"
]
_DNA_FAULTS = frozenset({"truncate_dna", "extend_dna", "n_run", "wrong_echo"})
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def is_soft_masked(pos: int) -> bool:
    """Whether the stand-in answers the base at 0-based ``pos`` in lower case."""
    return (pos // 500) % 7 == 3


def soft_mask(bases: str, start: int) -> str:
    """Lower-case the stand-in's "repeats" in ``bases``, which begin at 0-based ``start``."""
    out: list[str] = []
    pos, end = start, start + len(bases)
    while pos < end:
        block_end = min(end, (pos // 500 + 1) * 500)
        chunk = bases[pos - start : block_end - start]
        out.append(chunk.lower() if is_soft_masked(pos) else chunk)
        pos = block_end
    return "".join(out)


@dataclass(frozen=True)
class RateLimit:
    """UCSC's bot delay as the stand-in plays it: a token bucket of ``burst`` refilled ``per_second``."""

    per_second: float
    burst: int = 1


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 500
    retry_after: float | str | None = None
    delay: float = 5.0
    length: int = 1
    offset: int = 0
    #: ``status`` faults: the ``error`` text (default: UCSC's bot message for 429, a stand-in note otherwise).
    message: str | None = None
    #: Only requests to this path; ``None``: any path (dna faults: ``/getData/sequence`` only).
    path: str | None = None

    def applies_to(self, path: str) -> bool:
        if self.path is not None:
            return path == self.path
        return path == SEQUENCE if self.kind in _DNA_FAULTS else True


@dataclass
class _Injected:
    fault: Fault
    remaining: int | None


# -- reference data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slice:
    genome: str
    chrom: str
    start: int  # 0-based
    bases: str

    @property
    def end(self) -> int:
        return self.start + len(self.bases)


def _read_fasta_slice(genome: str, path: Path) -> _Slice:
    lines = path.read_text().splitlines()
    header = lines[0][1:].split()[0]  # "chr17:43040000-43130000" or "22:20000001-21000000", 1-based inclusive
    name, span = header.rsplit(":", 1)
    first, last = (int(x.replace(",", "")) for x in span.split("-"))
    bases = "".join(line.strip() for line in lines[1:]).upper()
    chrom = name if name.startswith("chr") else f"chr{name}"
    if len(bases) != last - first + 1:
        raise ValueError(f"{path.name}: header says {last - first + 1} bp, file holds {len(bases)}")
    return _Slice(genome, chrom, first - 1, bases)


def _snippet_slices(genome: str, path: Path) -> list[_Slice]:
    """Overlapping snippets merged into slices (they are one genome's bases, so they agree)."""
    pieces: dict[str, dict[int, str]] = {}
    for line in path.read_text().splitlines():
        chrom, start, _end, bases = line.split("\t")
        chrom_bases = pieces.setdefault(chrom, {})
        for offset, base in enumerate(bases.upper()):
            known = chrom_bases.setdefault(int(start) + offset, base)
            if known != base:
                raise ValueError(f"{path.name}: {chrom}:{int(start) + offset} is {known} and {base}")
    out: list[_Slice] = []
    for chrom, positions in pieces.items():
        run: list[int] = []
        for pos in [*sorted(positions), -1]:
            if run and pos != run[-1] + 1:
                out.append(_Slice(genome, chrom, run[0], "".join(positions[p] for p in run)))
                run = []
            if pos >= 0:
                run.append(pos)
    return out


@functools.cache
def reference_slices() -> tuple[_Slice, ...]:
    slices = [_read_fasta_slice(genome, path) for genome, path in FASTA_SLICES]
    return (*slices, *_snippet_slices("hg19", SNIPPETS))


@functools.cache
def chromosome_sizes() -> dict[str, dict[str, int]]:
    """genome → {chrom: size}, in the file's order (chr1 … chrM, then the other sequences)."""
    sizes: dict[str, dict[str, int]] = {}
    for line in CHROM_SIZES.read_text().splitlines()[1:]:
        if line.strip():
            assembly, chrom, size = line.split("\t")
            sizes.setdefault(assembly, {})[chrom] = int(size)
    return sizes


def reference_bases(genome: str, chrom: str, start: int, end: int) -> str | None:
    """Upper-case bases of 0-based half-open ``[start, end)`` from the slices, or ``None``."""
    for piece in reference_slices():
        if piece.genome == genome and piece.chrom == chrom and piece.start <= start and end <= piece.end:
            return piece.bases[start - piece.start : end - piece.start]
    return None


def served_bases(genome: str, chrom: str, start: int, end: int) -> str | None:
    """What the stand-in answers for ``[start, end)``: the slices' bases, with N for the parts of a
    request that overlaps a slice but runs past it (clients fetch aligned tiles around a window, and
    the real UCSC has bases there that these slices do not hold); ``None`` when no slice overlaps."""
    whole = reference_bases(genome, chrom, start, end)
    if whole is not None:
        return whole
    bases, found = ["N"] * (end - start), False
    for piece in reference_slices():
        if piece.genome == genome and piece.chrom == chrom and piece.start < end and start < piece.end:
            lo, hi = max(start, piece.start), min(end, piece.end)
            bases[lo - start : hi - start] = piece.bases[lo - piece.start : hi - piece.start]
            found = True
    return "".join(bases) if found else None


SYNTHETIC_BLOCK = 4096


@functools.lru_cache(maxsize=4096)
def _synthetic_block(genome: str, chrom: str, block: int) -> str:
    return "".join(random.Random(f"{genome}:{chrom}:{block}").choices("ACGT", k=SYNTHETIC_BLOCK))


def synthetic_bases(genome: str, chrom: str, start: int, end: int) -> str:
    """Deterministic pseudo-random bases of ``[start, end)`` (0-based), the same on every call."""
    first, last = start // SYNTHETIC_BLOCK, (end - 1) // SYNTHETIC_BLOCK
    joined = "".join(_synthetic_block(genome, chrom, b) for b in range(first, last + 1))
    offset = start - first * SYNTHETIC_BLOCK
    return joined[offset : offset + end - start]


def served_synthetic(genome: str, chrom: str, start: int, end: int) -> str:
    """What a ``synthetic=True`` stand-in answers: the slices' bases where they hold them, else synthetic."""
    bases = list(synthetic_bases(genome, chrom, start, end))
    for piece in reference_slices():
        if piece.genome == genome and piece.chrom == chrom and piece.start < end and start < piece.end:
            lo, hi = max(start, piece.start), min(end, piece.end)
            bases[lo - start : hi - start] = piece.bases[lo - piece.start : hi - piece.start]
    return "".join(bases)


def download_time(timestamp: float) -> str:
    """UCSC's ``downloadTime``: ``YYYY:MM:DDTHH:MM:SSZ`` (colons in the date too)."""
    t = time.gmtime(int(timestamp))
    return f"{t.tm_year}:{t.tm_mon:02d}:{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}Z"


# -- the server ---------------------------------------------------------------------------------------


class _Answer(Exception):
    """Raised inside request handling to answer with a UCSC error body."""

    def __init__(self, status: int, message: str, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid delayed-ACK stalls
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.owner._handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: UcscServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


class UcscServer:
    """The stand-in server. ``url`` is its base URL once started (context manager or ``start()``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Callable[[], float] = time.time,
        coverage: Literal["fill", "slices"] = "fill",
        synthetic: bool = False,
        rate_limit: RateLimit | None = None,
        latency: float = 0.0,
    ) -> None:
        self._address = (host, port)
        self._clock = clock
        self.coverage = coverage
        self.synthetic = synthetic
        self.rate_limit = rate_limit
        self.latency = latency
        self._tokens = float(rate_limit.burst) if rate_limit else 0.0
        self._refilled = time.monotonic()
        self.throttled = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.times: list[float] = []
        self._lock = threading.Lock()
        self._faults: list[_Injected] = []
        self._requests: list[tuple[str, dict[str, str]]] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> UcscServer:
        reference_slices()  # load the FASTA slices before the first request
        self._stopping.clear()
        self._httpd = _HTTPServer(self._address, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> UcscServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the stand-in UCSC server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- test controls ------------------------------------------------------------------------------

    def inject(self, fault: Fault, times: int | None = 1) -> None:
        """Apply ``fault`` to the next ``times`` matching requests (``None``: until ``clear_faults``)."""
        with self._lock:
            self._faults.append(_Injected(fault, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        """Every request received, in order: ``(path, params)``."""
        with self._lock:
            return list(self._requests)

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for p, _ in self._requests if path is None or p == path)

    def clear_log(self) -> None:
        with self._lock:
            self._requests.clear()
            self.times.clear()

    # -- request handling (server threads) ----------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for injected in self._faults:
                if injected.fault.applies_to(path):
                    if injected.remaining is not None:
                        injected.remaining -= 1
                        if injected.remaining <= 0:
                            self._faults.remove(injected)
                    return injected.fault
        return None

    def _admit(self) -> bool:
        """Whether the bot delay lets this request through (always, without a rate limit)."""
        if self.rate_limit is None:
            return True
        now = time.monotonic()
        self._tokens = min(
            float(self.rate_limit.burst), self._tokens + (now - self._refilled) * self.rate_limit.per_second
        )
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.throttled += 1
        return False

    def stats(self) -> dict[str, Any]:
        """The counters a benchmark reads (also at ``GET /_standin/stats``)."""
        return {
            "sequence_requests": self.count(SEQUENCE),
            "chromosome_requests": self.count(CHROMOSOMES),
            "search_requests": self.count(ucsc_tracks.SEARCH),
            "track_requests": self.count(ucsc_tracks.TRACK),
            "throttled": self.throttled,
            "max_in_flight": self.max_in_flight,
        }

    def _handle(self, handler: _Handler) -> None:
        if urlsplit(handler.path).path == STATS:
            self._send(handler, 200, self.stats())
            return
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._answer(handler)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        path = split.path
        pairs = _parse_query(split.query)
        with self._lock:
            self._requests.append((path, {k: v for k, v in reversed(pairs)}))
            self.times.append(time.monotonic())
            admitted = self._admit()
        if self.latency:
            self._stopping.wait(self.latency)
        if not admitted:
            hog = HOG_MESSAGE.format(host=handler.client_address[0])
            self._send(handler, 429, self._error_body(429, hog), "30")
            return
        fault = self._take_fault(path)
        if fault is not None and fault.kind == "reset":
            _reset(handler)
            return
        if fault is not None and fault.kind == "slow":
            self._stopping.wait(fault.delay)
        if fault is not None and fault.kind == "status":
            retry_after = None if fault.retry_after is None else _seconds(fault.retry_after)
            if fault.status == 429 and retry_after is None:
                retry_after = "30"
            message = fault.message
            if message is None:
                message = (
                    HOG_MESSAGE.format(host=handler.client_address[0])
                    if fault.status == 429
                    else f"stand-in injected HTTP {fault.status}"
                )
            self._send(handler, fault.status, self._error_body(fault.status, message), retry_after)
            return
        if fault is not None and fault.kind == "invalid_json":
            stamp = int(self._clock())
            broken = f'{{"downloadTime": "{download_time(stamp)}", "downloadTimeStamp": {stamp}, "dna": "ACG'
            self._send_bytes(handler, 200, broken.encode())
            return
        try:
            if path == SEQUENCE:
                body = self._sequence(pairs)
            elif path == CHROMOSOMES:
                body = self._chromosomes(pairs)
            elif path in (ucsc_tracks.SEARCH, ucsc_tracks.TRACK):
                body = self._annotation(path, pairs)
            elif path.startswith(("/getData/", "/list/")):
                words = path.strip("/").split("/")
                raise _Answer(400, f"do not recognize endpoint function: '/{words[0]}/{words[1]}'")
            else:
                raise _Answer(404, f"stand-in UCSC server: no such path {path!r}")
        except _Answer as answer:
            self._send(handler, answer.status, self._error_body(answer.status, answer.message))
            return
        if fault is not None and "dna" in body:
            body = _spoil(body, fault)
        self._send(handler, 200, body)

    def _base(self) -> dict[str, Any]:
        stamp = int(self._clock())
        return {"downloadTime": download_time(stamp), "downloadTimeStamp": stamp}

    def _error_body(self, status: int, message: str) -> dict[str, Any]:
        return {
            **self._base(),
            "error": message,
            "statusCode": status,
            "statusMessage": http.HTTPStatus(status).phrase,
        }

    def _sequence(self, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        args = _check_args(pairs, SEQUENCE_ARGS, SEQUENCE)
        genome = args.get("genome", "")
        sizes = chromosome_sizes()
        if not genome:
            raise _Answer(400, f"missing URL genome=<ucscDb> name for endpoint '{SEQUENCE}")
        if genome not in sizes:
            raise _Answer(400, f"can not find genome='{genome}' for endpoint '{SEQUENCE}'")
        start_text, end_text = args.get("start", ""), args.get("end", "")
        whole = not start_text or not end_text
        if not whole:
            try:
                start, end = int(start_text), int(end_text)
            except ValueError:
                start, end = -1, -1
            if start < 0 or end <= start:
                raise _Answer(
                    400,
                    f"illegal start,end coordinates given: {start_text},{end_text}, 'end' must be greater "
                    "than 'start', and start greater than or equal to zero",
                )
        chrom = args.get("chrom", "")
        if not chrom:
            raise _Answer(400, f"missing URL chrom=<name> for endpoint '{SEQUENCE}?genome={genome}'")
        size = sizes[genome].get(chrom)
        if size is None:
            raise _Answer(
                400,
                f"can not find specified chrom={chrom} in sequence for endpoint "
                f"'{SEQUENCE}?genome={genome};chrom={chrom}",
            )
        endpoint = f"{SEQUENCE}?genome={genome};chrom={chrom}"
        if whole:
            start, end = 0, size
            if size > MAX_DNA_LENGTH:
                raise _Answer(
                    400,
                    f"DNA sequence request {size} (size of {chrom}) too large, limit: {MAX_DNA_LENGTH} "
                    f"for endpoint '{endpoint}'",
                )
        else:
            endpoint += f";start={start_text};end={end_text}"
            if end - start > MAX_DNA_LENGTH:
                raise _Answer(
                    400,
                    f"DNA sequence request {end - start} too large, limit: {MAX_DNA_LENGTH} "
                    f"for endpoint '{endpoint}'",
                )
            if end > size:
                raise _Answer(
                    400,
                    f"DNA sequence request end coordinate {end} past end of chromosome size {size} "
                    f"for endpoint '{endpoint}'",
                )
        bases = self._bases(genome, chrom, start, end)
        if bases is None:
            raise _Answer(
                500,
                f"stand-in has no data for {genome} {chrom}:[{start},{end}) (0-based half-open); "
                "the test asked for bases outside the FASTA slices",
            )
        dna = soft_mask(bases, start)
        body: dict[str, Any] = {**self._base(), "genome": genome, "chrom": chrom, "start": start, "end": end}
        if args.get("revComp", "").lower() in ("1", "on", "true"):
            dna = dna.translate(_COMPLEMENT)[::-1]
            body["revComp"] = True
        body["dna"] = dna
        return body

    def _annotation(self, path: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """``/search`` and ``/getData/track`` (``ucsc_tracks``)."""
        search = path == ucsc_tracks.SEARCH
        args = _check_args(pairs, ucsc_tracks.SEARCH_ARGS if search else ucsc_tracks.TRACK_ARGS, path)
        answer = ucsc_tracks.search if search else ucsc_tracks.track
        try:
            return answer(self._base(), args, lambda genome: genome in chromosome_sizes())
        except ucsc_tracks.Refused as refused:
            raise _Answer(400, refused.message) from None

    def _bases(self, genome: str, chrom: str, start: int, end: int) -> str | None:
        if self.coverage == "slices":
            return reference_bases(genome, chrom, start, end)
        if self.synthetic:
            return served_synthetic(genome, chrom, start, end)
        return served_bases(genome, chrom, start, end)

    def _chromosomes(self, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        args = _check_args(pairs, CHROMOSOMES_ARGS, CHROMOSOMES)
        genome = args.get("genome", "")
        if not genome:
            raise _Answer(400, f"must supply hubUrl or genome name for endpoint '{CHROMOSOMES}")
        sizes = chromosome_sizes().get(genome)
        if sizes is None:
            raise _Answer(400, f"can not find genome='{genome}' for endpoint '{CHROMOSOMES}'")
        data_stamp = calendar.timegm(time.strptime(DATA_TIME, "%Y-%m-%dT%H:%M:%S"))
        return {
            **self._base(),
            "genome": genome,
            "dataTime": DATA_TIME,
            "dataTimeStamp": data_stamp,
            "chromCount": len(sizes),
            "chromosomes": dict(sizes),
        }

    @staticmethod
    def _send(handler: _Handler, status: int, body: dict[str, Any], retry_after: str | None = None) -> None:
        UcscServer._send_bytes(handler, status, json.dumps(body).encode(), retry_after)

    @staticmethod
    def _send_bytes(handler: _Handler, status: int, data: bytes, retry_after: str | None = None) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                handler.send_header("Retry-After", retry_after)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up (e.g. after its read timeout)


def _parse_query(query: str) -> list[tuple[str, str]]:
    """UCSC accepts ``;`` and ``&`` between parameters."""
    pairs: list[tuple[str, str]] = []
    for part in query.replace("&", ";").split(";"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def _check_args(pairs: list[tuple[str, str]], allowed: tuple[str, ...], endpoint: str) -> dict[str, str]:
    extras = [f"{name}={value}" for name, value in pairs if name not in allowed]
    if extras:
        raise _Answer(400, f"extraneous arguments found for function {endpoint} '{';'.join(extras)}'")
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        given = ";".join(f"{name}={value}" for name, value in pairs if name in repeated)
        raise _Answer(400, f"duplicate arguments found for function {endpoint} '{given}'")
    return dict(pairs)


def _spoil(body: dict[str, Any], fault: Fault) -> dict[str, Any]:
    body = dict(body)
    dna: str = body["dna"]
    if fault.kind == "truncate_dna":
        body["dna"] = dna[: max(len(dna) - fault.length, 0)]
    elif fault.kind == "extend_dna":
        body["dna"] = dna + "A" * fault.length
    elif fault.kind == "n_run":
        stop = min(fault.offset + fault.length, len(dna))
        body["dna"] = dna[: fault.offset] + "N" * max(stop - fault.offset, 0) + dna[stop:]
    elif fault.kind == "wrong_echo":
        body["start"] += 1
        body["end"] += 1
    return body


def _seconds(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def _reset(handler: _Handler) -> None:
    """Close the connection with a TCP reset, without any answer."""
    sock = handler.connection
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass
    handler.close_connection = True


@pytest.fixture
def ucsc_server() -> Iterator[UcscServer]:
    """A fresh stand-in UCSC server per test (faults and request log start empty)."""
    with UcscServer() as server:
        yield server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the stand-in UCSC REST server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--synthetic", action="store_true", help="serve made-up bases outside the slices")
    parser.add_argument("--coverage", choices=["fill", "slices"], default="fill")
    parser.add_argument("--rate", type=float, help="bot delay: requests per second before 429")
    parser.add_argument("--burst", type=int, default=1, help="bot delay: requests back to back")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every answer takes")
    args = parser.parse_args(argv)
    server = UcscServer(
        args.host,
        args.port,
        coverage=args.coverage,
        synthetic=args.synthetic,
        rate_limit=RateLimit(args.rate, args.burst) if args.rate else None,
        latency=args.latency,
    ).start()
    print(f"stand-in UCSC server on http://{args.host}:{server.port} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
