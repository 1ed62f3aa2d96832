"""Load a script of bench/ or scripts/ (not packages) as a module, for tests."""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path


def load_script(path: Path, name: str | None = None) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
