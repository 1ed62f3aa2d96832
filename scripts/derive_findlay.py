"""Derive the compact Findlay 2018 BRCA1 table shipped as package data from the published spreadsheet.

    python scripts/derive_findlay.py bench/data/findlay2018_brca1_sge_41586_2018_461_MOESM3_ESM.xlsx \
        > service/data/brca1/findlay2018_brca1_snvs.tsv

Keeps the columns the benchmark and the tests use (with the table's own CADD v1.3 and mammalian phyloP
scores, the benchmark's baselines); positions stay 1-based hg19 as published.
"""

from __future__ import annotations

import sys

COLUMNS = {
    "chromosome": "chromosome",
    "position (hg19)": "position_hg19",
    "reference": "reference",
    "alt": "alt",
    "consequence": "consequence",
    "function.score.mean": "function_score_mean",
    "func.class": "func_class",
    "CADD.score": "cadd_score",
    "phyloP (mammalian)": "phylop_mammalian",
}


def main(path: str) -> None:
    import openpyxl

    sheet = openpyxl.load_workbook(path, read_only=True).active
    rows = sheet.iter_rows(values_only=True)
    header: tuple = ()
    for row in rows:  # the header is on the third row
        if row and row[0] == "gene":
            header = row
            break
    index = [header.index(name) for name in COLUMNS]
    print("\t".join(COLUMNS.values()))
    for row in rows:
        if row[0] is None:
            continue
        values = [row[i] for i in index]
        values[0] = f"chr{values[0]}"
        print("\t".join(str(v) for v in values))


if __name__ == "__main__":
    main(sys.argv[1])
