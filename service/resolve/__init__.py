"""Notations → genomic variants: rsIDs through dbSNP, HGVS through gene models (``Resolver``).

A room of its own: it uses the genome sources (for reference bases) and the annotation sources
(gene models, dbSNP), and nothing of the domain's scoring; the API and the bulk job resolve first,
then score the genomic variants.
"""
