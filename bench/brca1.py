"""Reproduce the Evo 2 BRCA1 zero-shot result with one command, for any model the service can run.

Scores the Findlay et al. 2018 SNVs (3,893; LOF vs FUNC/INT) on the notebook's 8,192-bp hg19
windows through the service's own DeltaEngine and bundled genome (no network), prints the figures,
writes ROC and strip plots, a JSON report, the per-variant deltas (resumable), and with
``--write-calibration`` the model's calibration file.

    python bench/brca1.py --model kmer --out out/brca1-kmer/ --write-calibration     # CPU, seconds
    python bench/brca1.py --model tiny-evo2 --n 300 --subset stratified --out out/brca1-tiny/
    python bench/brca1.py --model evo2_7b --out out/brca1-evo2_7b/ --write-calibration  # GPU

Models: ``kmer`` (the CPU baseline), ``tiny-evo2`` (the real Evo 2 code with a tiny random-weight
model, tests/support/evo2_cpu.py), ``evo2_*`` (an Evo 2 checkpoint; needs a GPU and the weights).
Rerunning with the same ``--out`` and options skips variants already in ``deltas.tsv``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_curve

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.jobs.benchmark import BenchmarkOptions, benchmark  # noqa: E402
from service.jobs.benchmark.calibration_file import calibration_record, write_calibration  # noqa: E402
from service.jobs.benchmark.findlay import ScoredSnv  # noqa: E402
from service.jobs.benchmark.published import PUBLISHED_AUROC  # noqa: E402
from service.scoring.base import Scorer  # noqa: E402

DEFAULT_CALIBRATION_DIR = ROOT / "service" / "data" / "calibration"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="kmer, tiny-evo2 or an Evo 2 name (evo2_7b, ...)")
    parser.add_argument("--n", type=int, default=None, help="score N SNVs only (default: all 3,893)")
    parser.add_argument(
        "--subset",
        choices=["first", "stratified"],
        default="first",
        help="with --n: the first N rows, or a seeded sample stratified by LOF x coding (default first)",
    )
    parser.add_argument("--seed", type=int, default=0, help="sample and cross-validation seed")
    parser.add_argument("--window", type=int, default=8192, help="window in bp (the notebook's 8,192)")
    parser.add_argument("--delta-method", choices=["window", "suffix"], default="window")
    parser.add_argument("--rc", action="store_true", help="average with the reverse complement")
    parser.add_argument("--batch-size", type=int, default=64, help="variants per model call")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument("--out", type=Path, required=True, help="output directory (deltas.tsv resumes)")
    parser.add_argument("--write-calibration", action="store_true", help="write <model>.json")
    parser.add_argument("--calibration-dir", type=Path, default=DEFAULT_CALIBRATION_DIR)
    parser.add_argument("--local-path", type=Path, default=None, help="Evo 2 checkpoint file (no hub call)")
    parser.add_argument("--device", default="cuda:0", help="torch device for Evo 2")
    parser.add_argument("--checkpoint-revision", default=None, help="recorded in the calibration file")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def make_scorer(args: argparse.Namespace) -> Scorer:
    if args.model in ("kmer", "kmer-8"):
        from service.scoring.kmer import KmerScorer

        return KmerScorer.load()
    if args.model == "tiny-evo2":
        from tests.support.evo2_cpu import tiny_scorer

        return tiny_scorer(seed=args.seed)
    if args.model.startswith("evo2"):
        from service.compose import build_scorer
        from service.settings import Settings

        settings = Settings(model=args.model, evo2_local_path=args.local_path, device=args.device)
        return build_scorer(settings)
    raise SystemExit(f"unknown model {args.model!r}: use kmer, tiny-evo2 or an evo2_* name")


# --------------------------------------------------------------------------- output


def _fmt_auroc(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "n/a (one class only)"
    lo, hi = entry["ci95"]
    return f"{entry['value']:.3f}  [95% CI {lo:.3f}-{hi:.3f}]  n={entry['n']} (LOF {entry['n_lof']})"


def _fmt_auprc(entry: dict[str, Any] | None) -> str:
    return "n/a" if entry is None else f"{entry['value']:.3f}  (chance {entry['baseline']:.3f})"


def format_table(report: dict[str, Any]) -> str:
    """The figures, then the anchors they are to be read beside."""
    opts = report["options"]
    lines = [
        f"BRCA1 benchmark: {report['model']} on {report['n']} of {report['table_rows']} Findlay SNVs "
        f"({'all' if report['selected'] == report['table_rows'] else opts['subset']}), "
        f"{report['genome']} window {opts['window']}, delta {opts['delta_method']}"
        f"{', +reverse complement' if opts['reverse_complement'] else ''}",
        "",
        "LOF vs FUNC/INT, score = -delta (measured here)",
        f"  {'':<10} {'AUROC':<52} AUPRC",
    ]
    for split in ("overall", "coding", "noncoding"):
        auroc, auprc = report["auroc"][split], report["auprc"][split]
        lines.append(f"  {split:<10} {_fmt_auroc(auroc):<52} {_fmt_auprc(auprc)}")
    cut = report["threshold"]
    if cut:
        lines += [
            "",
            f"Youden threshold  delta < {cut['value']:.6g} -> LOF   "
            f"(TPR {cut['tpr']:.3f}, FPR {cut['fpr']:.3f}, J {cut['j']:.3f})",
        ]
    lines.append("Delta by class      n      median        mean          std")
    for name, key in (("LOF", "lof"), ("FUNC/INT", "func")):
        st = report["class_stats"][key]
        if st["n"]:
            lines.append(
                f"  {name:<14} {st['n']:>5}  {st['median']:>12.4e}  {st['mean']:>12.4e}  {st['std']:>11.4e}"
            )
    lines += _noise_lines(report.get("method_noise"))
    fit = report["logistic"]
    if fit:
        lines += ["", f"Logistic P(LOF|delta): intercept {fit['intercept']:.4f}, slope {fit['slope']:.5g}"]
        cv = fit["cv"]
        if cv:
            base = cv["baseline"]
            lines.append(
                f"  {cv['folds']}-fold CV (out of fold): AUROC {cv['auroc']:.3f}, "
                f"log-loss {cv['log_loss']:.4f} (base rate {base['log_loss']:.4f}), "
                f"Brier {cv['brier']:.4f} (base rate {base['brier']:.4f})"
            )
    scoring = report["scoring"]
    lines += [
        "",
        f"Scored now {scoring['scored_now']}, reused from deltas.tsv {scoring['reused']}, failed "
        f"{scoring['failed']}; {scoring['windows_scored']} windows in {scoring['seconds']:.1f} s",
        *_anchor_lines(report),
    ]
    return "\n".join(lines)


def _noise_lines(noise: dict[str, Any] | None) -> list[str]:
    if not noise:
        return []
    ratio = noise["median_gap_over_median_delta"]
    return [
        "",
        f"window vs suffix delta, same log-probs ({noise['n']} SNVs): "
        f"|gap| median {noise['median_abs_gap']:.3g}, 95th percentile {noise['p95_abs_gap']:.3g}, "
        f"max {noise['max_abs_gap']:.3g}",
        f"  = {ratio:.3g} of the median |delta| ({noise['median_abs_delta']:.3g}); AUROC window "
        f"{noise['auroc_window']:.3f}, suffix {noise['auroc_suffix']:.3f}"
        if ratio is not None and noise["auroc_window"] is not None
        else "  (one class only or zero deltas)",
    ]


def _anchor_lines(report: dict[str, Any]) -> list[str]:
    """The anchors beside this run: the table's own predictors on the same rows, then published AUROCs."""
    lines = [
        "",
        f"Anchors on the same {report['n']} SNVs, computed here from the Findlay table's own columns:",
    ]
    for item in report["table_predictors"]:
        lines.append(f"  {item['name']:<20} AUROC {_fmt_auroc(item['auroc'])}  ({item['source']})")
    lines += ["", "Published BRCA1 AUROCs (all 3,893 SNVs unless a split is named; not measured here):"]
    for item in PUBLISHED_AUROC:
        lines.append(f"  {item['model']:<20} {item['auroc']:.3f} ({item['split']}; {item['source']})")
    overall = report["auroc"]["overall"]
    if overall is not None:
        lines.append(f"  {report['model']:<20} {overall['value']:.3f} (overall; this run)")
    return lines


def plot_roc(report: dict[str, Any], rows: list[ScoredSnv], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    deltas = np.array([r.delta for r in rows])
    lof = np.array([r.snv.is_lof for r in rows])
    coding = np.array([r.snv.is_coding for r in rows])
    fig, ax = plt.subplots(figsize=(4.8, 4.6), dpi=100)
    for split, mask, style in (
        ("overall", np.ones_like(lof), "-"),
        ("coding", coding, "--"),
        ("noncoding", ~coding, ":"),
    ):
        entry = report["auroc"][split]
        if entry is None:
            continue
        fpr, tpr, _ = roc_curve(lof[mask], -deltas[mask])
        ax.plot(fpr, tpr, style, lw=1.6, label=f"{split} AUROC {entry['value']:.3f} (n={entry['n']})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
    ax.set_xlabel("false positive rate (FUNC/INT called LOF)")
    ax.set_ylabel("true positive rate (LOF)")
    ax.set_title(f"{report['model']}: BRCA1 LOF vs FUNC/INT, score = -delta", fontsize=9)
    if ax.get_legend_handles_labels()[0]:  # no curve when the subset holds one class only
        ax.legend(loc="lower right", fontsize=8)
    ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_strip(report: dict[str, Any], rows: list[ScoredSnv], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    deltas = np.array([r.delta for r in rows])
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    groups = [(c, coding) for c in ("FUNC", "INT", "LOF") for coding in (True, False)]
    colours = {"FUNC": "tab:blue", "INT": "tab:orange", "LOF": "tab:red"}
    for x, (func_class, coding) in enumerate(groups):
        values = np.array(
            [r.delta for r in rows if r.snv.func_class == func_class and r.snv.is_coding == coding]
        )
        if values.size == 0:
            continue
        jitter = rng.uniform(-0.3, 0.3, values.size)
        ax.scatter(
            x + jitter, values, s=3, alpha=0.45, color=colours[func_class], linewidths=0, rasterized=True
        )
        ax.hlines(np.median(values), x - 0.35, x + 0.35, color="black", lw=1.2)
    if report["threshold"]:
        ax.axhline(report["threshold"]["value"], color="black", ls="--", lw=0.8, label="Youden threshold")
        ax.legend(loc="lower right", fontsize=8)
    lo, hi = np.percentile(deltas, [0.5, 99.5])
    pad = 0.1 * (hi - lo or 1e-9)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xticks(
        range(len(groups)), [f"{c}\n{'coding' if k else 'noncoding'}" for c, k in groups], fontsize=8
    )
    ax.set_ylabel("delta = alt - ref (mean log-lik.; 0.5-99.5% shown)", fontsize=8)
    ax.set_title(f"{report['model']}: BRCA1 deltas by Findlay class (bars: medians)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None, *, scorer: Scorer | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the JSON report. ``scorer`` overrides ``--model`` (tests)."""
    import asyncio

    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    model = scorer or make_scorer(args)
    options = BenchmarkOptions(
        n=args.n,
        subset=args.subset,
        seed=args.seed,
        window=args.window,
        delta_method=args.delta_method,
        reverse_complement=args.rc,
        batch_size=args.batch_size,
        folds=args.folds,
        deltas_path=args.out / "deltas.tsv",
    )
    result = asyncio.run(benchmark(model, options, progress=not args.no_progress))
    report = result.report
    report["scorer"] = model.describe()
    report["published_auroc"] = list(PUBLISHED_AUROC)
    plot_roc(report, result.rows, args.out / "roc.png")
    plot_strip(report, result.rows, args.out / "strip.png")
    print(format_table(report))
    if args.write_calibration:
        command = "python bench/brca1.py " + shlex.join(argv)
        record = calibration_record(report, command=command, checkpoint_revision=args.checkpoint_revision)
        written = write_calibration(record, args.calibration_dir)
        report["calibration_file"] = str(written.path)
        if report["selected"] < report["table_rows"]:
            print(f"warning: calibration fitted on a subset of {report['selected']} SNVs", file=sys.stderr)
        if written.changed:
            print(f"\ncalibration written to {written.path}")
        else:
            print(f"\ncalibration unchanged (same figures; date and command kept): {written.path}")
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"report, deltas and plots in {args.out}/")
    return report


if __name__ == "__main__":
    main()
