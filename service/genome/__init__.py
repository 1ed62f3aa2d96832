"""Genome sources: where reference bases come from. See ``service.genome.base``."""
