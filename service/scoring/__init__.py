"""Scorers: sequences in, per-position log-probabilities out. See ``service.scoring.base``."""
