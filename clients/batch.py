"""The CLI's file scoring: rows of a variant file sent in batches over HTTP, results resumable.

The same reader, records and writer as ``python -m service.jobs.bulk`` and the Modal entrypoint
(``clients.files``), so one input gives the same rows whichever scores it. Rows are grouped by their
own ``genome`` column (else ``--genome``, else the server's default); rows already in the output are
not sent again.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from clients._base import chunked
from clients.errors import BadRequestError
from clients.files import (
    InputRow,
    Record,
    ResultWriter,
    RunInfo,
    check_output,
    error_record,
    read_error_record,
    read_variants,
    scored_record,
)
from clients.models import AlleleResults, InfoResponse, VariantError
from clients.sync import Client


def run_info(info: InfoResponse, options: Mapping[str, Any]) -> RunInfo:
    """What the output says produced it: the server's model and defaults, overridden by the options."""
    defaults = info.defaults

    def pick(key: str) -> Any:
        return options.get(key) if options.get(key) is not None else defaults.get(key)

    return RunInfo(
        model=info.model.get("name"),
        revision=info.model.get("revision"),
        genome=pick("genome"),
        window=pick("window"),
        delta_method=pick("delta_method"),
        reverse_complement=pick("reverse_complement"),
        version=info.version,
    )


def score_file(client: Client, args: argparse.Namespace, options: Mapping[str, Any]) -> int:
    from tqdm import tqdm

    source = read_variants(args.input)
    check_output(args.output, source, json_lines=args.json)  # before asking the server anything
    run = run_info(client.info(), options)
    writer = ResultWriter(args.output, source, run, json_lines=args.json, stream=sys.stdout)
    done = writer.open()
    counts = {"scored": 0, "errors": 0}
    try:
        todo = [row for row in source.rows if row.index not in done]
        bar = tqdm(
            total=len(source.rows),
            initial=len(source.rows) - len(todo),
            unit="variant",
            file=sys.stderr,
            disable=True if args.no_progress else None,
        )
        with bar:
            for batch in chunked(todo, args.batch_size) if todo else []:
                records = score_rows(client, batch, options, str(run.genome))
                writer.put(records)
                for record in records:
                    counts["scored" if record["status"] == "ok" else "errors"] += 1
                bar.update(len(batch))
    finally:
        writer.close()
    where = f"{args.output}: " if args.output else ""
    print(
        f"{where}{counts['scored']} scored, {counts['errors']} errors, {len(done)} already done",
        file=sys.stderr,
    )
    return 0


def _results(client: Client, rows: Sequence[InputRow], asked: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The genome the server used and its results for ``rows`` in order; a batch whose rsIDs mean more
    variants than one request takes (``limit_exceeded`` counting ``variants``) is sent in halves."""
    try:
        response = client.variant_deltas([r.payload for r in rows if r.payload is not None], **asked)
        return response.genome, list(response.results)
    except BadRequestError as exc:
        if exc.type != "limit_exceeded" or "variants" not in (exc.detail or {}) or len(rows) < 2:
            raise
    half = len(rows) // 2
    genome, first = _results(client, rows[:half], asked)
    return genome, first + _results(client, rows[half:], asked)[1]


def score_rows(
    client: Client, batch: Sequence[InputRow], options: Mapping[str, Any], genome: str
) -> list[Record]:
    """One record per row of ``batch``, in order: unreadable rows answered here, the others scored in
    one request per genome. ``genome`` names the run's genome in unreadable rows."""
    records: dict[int, Record] = {}
    groups: dict[str | None, list[InputRow]] = {}
    for row in batch:
        if row.payload is None:
            records[row.index] = read_error_record(row, genome)
        else:
            groups.setdefault(row.genome, []).append(row)
    for row_genome, rows in groups.items():
        asked = {**options, "genome": row_genome} if row_genome is not None else dict(options)
        try:
            used_genome, results = _results(client, rows, asked)
        except BadRequestError as exc:
            if row_genome is None or exc.type != "unknown_genome":
                raise
            records.update({r.index: error_record(r, row_genome, exc.type, exc.message) for r in rows})
            continue
        for row, outcome in zip(rows, results, strict=True):
            if isinstance(outcome, AlleleResults):
                alleles = ", ".join(a.variant for a in outcome.alleles if not isinstance(a, VariantError))
                message = (
                    f"{outcome.rsid} has {len(outcome.alleles)} alternate alleles ({alleles}): a file row "
                    "holds one variant, so give each as its own row (chrom pos ref alt)"
                )
                records[row.index] = error_record(row, used_genome, "multiple_alleles", message)
            elif isinstance(outcome, VariantError):
                err = outcome.error
                records[row.index] = error_record(row, used_genome, err.type, err.message)
            else:
                records[row.index] = scored_record(row, outcome.model_dump(mode="json"))
    return [records[row.index] for row in batch]
