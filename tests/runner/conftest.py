"""Fixtures for the runner tests: learner files written to tmp_path, short limits."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.runner.limits import Limits  # noqa: E402
from grader.runner.session import Session  # noqa: E402
from grader.runner.submission import locate  # noqa: E402

FAST = Limits(call_timeout=2, import_timeout=3, memory_bytes=1024**3)
MODULE = "ex01_activations"


def write_source(folder: Path, name: str, source: str) -> Path:
    """Write dedented ``source`` to ``folder/name`` and return the path."""
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture
def write() -> Callable[[Path, str, str], Path]:
    """write(folder, name, source) -> path: the source is dedented."""
    return write_source


@pytest.fixture
def sessions() -> Iterator[list[Session]]:
    """A list whose Sessions are closed at teardown."""
    opened: list[Session] = []
    yield opened
    for s in opened:
        s.close()


@pytest.fixture
def open_session(sessions: list[Session]) -> Callable[..., Session]:
    """open_session(path, module=MODULE, **limits) -> a started Session on that file or folder."""

    def start(path: Path, module: str = MODULE, **limits: float) -> Session:
        s = Session(locate(path, module), replace(FAST, **limits))
        sessions.append(s)
        s.start()
        return s

    return start


@pytest.fixture
def learner(tmp_path: Path, open_session: Callable[..., Session]) -> Callable[..., Session]:
    """learner(source, **limits) -> a started Session on ``source`` saved as ex01_activations.py."""

    def start(source: str, **limits: float) -> Session:
        return open_session(write_source(tmp_path, f"{MODULE}.py", source), **limits)

    return start
