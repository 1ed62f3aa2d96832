"""Evo 2 variant-effect service.

Importing this package is cheap: it never imports torch, evo2 or modal.
"""

__version__ = "0.1.0"
