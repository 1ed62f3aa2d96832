"""Request-scoped access to the app's parts: one narrow FastAPI dependency (``Annotated`` alias) each."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.compose import Parts
from service.domain.calibration import Calibration
from service.domain.delta import DeltaEngine
from service.domain.sequences import SequenceLimits
from service.genome.base import GenomeSource
from service.resolve.resolver import Resolver
from service.scoring.base import Scorer
from service.scoring.runner import ModelRunner
from service.settings import Settings


def _parts(request: Request) -> Parts:
    parts: Parts = request.app.state.parts
    return parts


def get_settings(request: Request) -> Settings:
    return _parts(request).settings


def get_engine(request: Request) -> DeltaEngine:
    return _parts(request).engine


def get_runner(request: Request) -> ModelRunner:
    return _parts(request).runner


def get_scorer(request: Request) -> Scorer:
    return _parts(request).scorer


def get_genome(request: Request) -> GenomeSource:
    return _parts(request).genome


def get_calibration(request: Request) -> Calibration:
    return _parts(request).calibration


def get_sequence_limits(request: Request) -> SequenceLimits:
    return _parts(request).sequence_limits


def get_resolver(request: Request) -> Resolver:
    return _parts(request).resolver


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[DeltaEngine, Depends(get_engine)]
RunnerDep = Annotated[ModelRunner, Depends(get_runner)]
ScorerDep = Annotated[Scorer, Depends(get_scorer)]
GenomeDep = Annotated[GenomeSource, Depends(get_genome)]
CalibrationDep = Annotated[Calibration, Depends(get_calibration)]
SequenceLimitsDep = Annotated[SequenceLimits, Depends(get_sequence_limits)]
ResolverDep = Annotated[Resolver, Depends(get_resolver)]
