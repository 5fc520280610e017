"""Importing an instructor's file (a mistakes or hidden-checks module) by its path.

The module gets a private name made from the file's path, so that two solutions folders never
share a module and nothing is looked up through ``sys.path``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def import_file(path: Path, prefix: str) -> ModuleType:
    """The module at ``path``, executed once per process as ``<prefix>_<stem>_<hash>``.

    Raises FileNotFoundError when there is no such file, and whatever executing it raises
    (it is then forgotten, so a fixed file can be imported again).
    """
    path = Path(path).resolve()
    tag = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    name = f"{prefix}_{path.stem}_{tag}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise FileNotFoundError(f"no module file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
