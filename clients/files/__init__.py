"""Variant files, one way for every path that scores them: the CLI (over HTTP), ``python -m
service.jobs.bulk`` (in this process) and ``modal run modal_deploy.py::score_variants`` (GPU containers).

* :func:`read_variants`: VCF, VCF.gz, a TSV with a header, or one variant per line → ``InputRow`` s.
* :func:`scored_record` / :func:`error_record`: one output record per row, keys :data:`COLUMNS`.
* :class:`ResultWriter`: TSV, JSON Lines, annotated VCF or bgzipped + tabix-indexed VCF by extension;
  rows written as they complete, in input order; reruns resume.

Parsing a row's notation into a variant is the service's (the CLI sends the row's text as it is).
Imports the standard library only; pysam only when a ``.vcf.gz`` is written.
"""

from clients.files.formats import SUFFIXES, output_format
from clients.files.read import HEADER_ALIASES, InputFile, VcfRecord, VcfSource, read_variants
from clients.files.rows import (
    COLUMNS,
    READ_ERROR,
    RESCORED_ERRORS,
    InputRow,
    Record,
    error_record,
    read_error_record,
    scored_record,
)
from clients.files.vcf import INFO_FIELDS, RunInfo
from clients.files.write import ResultWriter, check_output

__all__ = [
    "COLUMNS",
    "HEADER_ALIASES",
    "INFO_FIELDS",
    "READ_ERROR",
    "RESCORED_ERRORS",
    "SUFFIXES",
    "InputFile",
    "InputRow",
    "Record",
    "ResultWriter",
    "RunInfo",
    "VcfRecord",
    "VcfSource",
    "check_output",
    "error_record",
    "output_format",
    "read_error_record",
    "read_variants",
    "scored_record",
]
