"""Offline jobs: bulk scoring of variant files and the BRCA1 benchmark."""
