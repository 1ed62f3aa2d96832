"""The continuation comparison the benchmarks call: token plans and paired on/off runs."""

from __future__ import annotations

import pytest

from service.jobs.continuation import PlanningScorer, compare_on_off, planned, run_once


def test_the_plan_counts_each_reference_once_and_each_alternate_from_its_variant():
    plan = planned("brca1", 30, window=8192)
    off, on = plan["off"], plan["on"]
    alternates = 30
    references = off["windows"] - alternates
    assert off["tokens"] == (references + alternates) * 8192
    # The notebook's centred variant: base 4,096 differs, bases 4,096 .. 8,190 are fed.
    assert on["tokens"] == references * 8192 + alternates * (8192 - 1 - 4096)
    assert on["window_equivalents_per_unit"] == pytest.approx(on["tokens"] / 8192 / 30)


def test_a_saturation_position_costs_one_reference_and_three_half_windows():
    plan = planned("saturation", 4, window=2048)
    assert plan["off"]["window_equivalents_per_unit"] == 4.0
    assert plan["on"]["window_equivalents_per_unit"] == pytest.approx(1 + 3 * (2048 - 1 - 1024) / 2048)


def test_planning_runs_answer_every_variant():
    run = run_once(PlanningScorer(), "brca1", 5, window=1024, continuation=True)
    assert run["variants"] == 5 and len(run["deltas"]) == 5


def test_compare_on_off_with_the_tiny_model():
    from tests.support.evo2_cpu import tiny_scorer

    report = compare_on_off(tiny_scorer(), workloads=(("brca1", 3), ("saturation", 1)), window=256, rounds=2)
    for name, figures in report["workloads"].items():
        assert len(figures["seconds_on"]) == len(figures["seconds_off"]) == 2
        assert figures["speedup_min"] <= figures["speedup_median"] <= figures["speedup_max"]
        assert figures["tokens_on"] < figures["tokens_off"], name
        assert figures["max_abs_delta_difference"] < 2e-6
