"""The IPython extension: ``%load_ext grader``, then ``%grade ex03`` (``--lang ko``,
``--timeout 5``) shows the same result as ``check("ex03")``."""

from __future__ import annotations

import argparse
import shlex
from typing import Any


def _parse(line: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="%grade", add_help=False, exit_on_error=False)
    parser.add_argument("exercise")
    parser.add_argument("--lang", default=None)
    parser.add_argument("--timeout", type=float, default=None)
    return parser.parse_args(shlex.split(line))


def grade_magic(line: str) -> Any:
    """``%grade exNN [--lang L] [--timeout S]``: the result of ``check``, or one line saying
    why nothing was graded."""
    import grader

    try:
        args = _parse(line)
    except (argparse.ArgumentError, ValueError, SystemExit):
        print("usage: %grade exNN [--lang en|ko] [--timeout SECONDS]")
        return None
    try:
        return grader.check(args.exercise, lang=args.lang, timeout=args.timeout)
    except ValueError as error:
        print(f"{type(error).__name__}: {error}")
        return None


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%grade`` line magic on ``ipython``."""
    ipython.register_magic_function(grade_magic, magic_kind="line", magic_name="grade")
