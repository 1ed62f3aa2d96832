"""The offline BRCA1 benchmark: how well a model's delta separates harmful from harmless variants.

Reproduces the Evo 2 BRCA1 zero-shot notebook through the service's own code path: the Findlay et al.
2018 SNVs (``findlay``), the notebook's hg19 windows built by ``DeltaEngine`` from the bundled genome
slice (no network), any ``Scorer`` (``run``). Reported (``evaluation``): AUROC of ``-delta`` for LOF
against FUNC/INT, overall and coding / noncoding, with DeLong 95% intervals (``stats``); the Youden
threshold; a logistic regression of LOF on delta with cross-validated metrics (``logistic``). Deltas
are kept in a resume file (``checkpoint``); ``calibration_file`` turns a report into the calibration
file the service reads.
"""

from service.jobs.benchmark.options import BenchmarkOptions
from service.jobs.benchmark.run import benchmark, run_benchmark

__all__ = ["BenchmarkOptions", "benchmark", "run_benchmark"]
