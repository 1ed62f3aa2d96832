"""The price of a request in model tokens (service.domain.cost): windows × window length × strands."""

from __future__ import annotations

import pytest

from service.domain.cost import CostLimit, saturation_cost, score_cost, variant_delta_cost
from service.errors import LimitExceeded


def test_the_cost_model_prices_the_issues_requests() -> None:
    # An 82-byte /saturation: 512 positions × 4 windows × 65,536 bp × 2 strands.
    assert saturation_cost(512, 65_536, reverse_complement=True).tokens == 268_435_456
    # A 1,000-variant batch at W = 65,536 on both strands: 2 windows per variant.
    assert variant_delta_cost(1000, 65_536, reverse_complement=True).tokens == 262_144_000
    assert variant_delta_cost(1000, 8192, reverse_complement=False).tokens == 16_384_000
    assert score_cost([100, 50], reverse_complement=True).tokens == 300
    assert variant_delta_cost(0, 8192, reverse_complement=True).tokens == 0


def test_the_limit_names_the_cost_how_it_was_reckoned_and_the_limit() -> None:
    cost = variant_delta_cost(3, 4096, reverse_complement=True)
    assert CostLimit(cost.tokens).check(cost) is cost
    with pytest.raises(LimitExceeded) as refused:
        CostLimit(cost.tokens - 1).check(cost)
    assert refused.value.detail == {
        "cost_tokens": 49_152,
        "max_request_tokens": 49_151,
        "reckoning": "3 variants × 2 windows × 4,096 bp × 2 strand(s)",
    }
    assert "49,152 model tokens" in refused.value.message
