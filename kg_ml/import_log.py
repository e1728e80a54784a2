"""Record which kg_ml modules a process imported, for the test that every stage's DVC deps cover
the code it runs (tests/test_pipeline_e2e.py).

Installed by ``kg_ml/__init__.py`` when ``KG_ML_IMPORT_LOG`` names a directory: at exit, the
process writes ``<pid>.json`` there with its argv and the repo-relative files of its kg_ml modules.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]


def imported_files() -> list[str]:
    """Repo-relative source files of the kg_ml modules loaded in this process."""
    files = set()
    for name, module in list(sys.modules.items()):
        path = Path(getattr(module, "__file__", None) or "/").resolve()
        # PyG compiles each GNN layer's `propagate` into a module named after it, kept in /tmp
        if (name == "kg_ml" or name.startswith("kg_ml.")) and name != __name__ and path.is_relative_to(_ROOT):
            files.add(path.relative_to(_ROOT).as_posix())
    return sorted(files)


def _write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    record = {"argv": sys.argv, "modules": imported_files()}
    (directory / f"{os.getpid()}.json").write_text(json.dumps(record))


def record_at_exit(directory: str) -> None:
    atexit.register(_write, Path(directory))
