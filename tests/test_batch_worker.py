"""Batch workers: what a task runs with (--timeout, training budgets) and how they stop."""

from __future__ import annotations

import multiprocessing
import os
import time
import types

import pytest

import grader.batch.run as batch_run
from grader.batch.run import _stop_workers
from grader.batch.worker import limits_for
from grader.cli import main
from grader.registry import load
from grader.runner.limits import Limits


def test_the_batch_timeout_replaces_the_default_per_call_limit():
    assert load("ex01").limits is None
    assert limits_for(load("ex01"), 2.0).call_timeout == 2.0
    assert limits_for(load("ex01"), None) == Limits()


def test_a_training_exercise_keeps_its_longer_budget_but_can_be_given_more():
    own = load("ex08").limits.call_timeout
    assert own > 2.0
    assert limits_for(load("ex08"), 2.0).call_timeout == own
    assert limits_for(load("ex08"), own + 10).call_timeout == own + 10
    assert limits_for(load("ex08"), 2.0).memory_bytes == load("ex08").limits.memory_bytes


def _exit_now() -> None:
    """A process body that ends at once."""


def test_stopping_the_workers_tolerates_one_that_is_already_gone():
    # The pool's own thread can reap a killed worker between is_alive() and the signal; model
    # that exactly: a worker whose process id was reaped behind multiprocessing's back still
    # looks alive, and signalling it fails with "No such process".
    context = multiprocessing.get_context("spawn")
    gone = context.Process(target=_exit_now)
    gone.start()
    os.waitpid(gone.pid, 0)
    assert gone.is_alive()  # multiprocessing has not seen it end
    live = context.Process(target=time.sleep, args=(60,))
    live.start()

    class FakePool:
        _processes = {gone.pid: gone, live.pid: live}

        def shutdown(self, wait: bool, cancel_futures: bool) -> None:
            self.shut = types.SimpleNamespace(wait=wait, cancel_futures=cancel_futures)

    pool = FakePool()
    _stop_workers(pool)  # type: ignore[arg-type]
    assert pool.shut.cancel_futures
    live.join(5)
    assert not live.is_alive() and live.exitcode is not None


@pytest.mark.parametrize("error, needle", [
    (ProcessLookupError(3, "No such process"),
     "the grader failed (ProcessLookupError: [Errno 3] No such process); results already "
     "recorded are kept in"),
    (PermissionError(13, "Permission denied", "/somewhere/else/alice.zip"),
     "cannot grade {tmp}/subs: [Errno 13] Permission denied: '/somewhere/else/alice.zip'"),
    (NotADirectoryError(20, "Not a directory", "{tmp}/out/feedback/alice"),
     "cannot write {tmp}/out: [Errno 20] Not a directory"),
])
def test_an_os_error_during_a_batch_is_one_line_that_says_whose_fault(
        error, needle, monkeypatch, tmp_path, capsys):
    if error.filename:
        error.filename = error.filename.format(tmp=tmp_path)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(batch_run, "run_batch", fail)
    code, stderr = run_main(capsys, tmp_path)
    assert code == 1
    assert stderr.startswith("grade: ") and needle.format(tmp=tmp_path) in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1


class Reached(Exception):
    """Raised in place of run_batch: the command got as far as grading."""


def run_main(capsys, tmp_path, *args: str) -> tuple[int, str]:
    """`grade batch tmp/subs --out tmp/out --isolation none ARGS` in this process: its exit
    status and stderr."""
    (tmp_path / "subs").mkdir(exist_ok=True)
    with pytest.raises(SystemExit) as exit_status:
        main(["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
              "--isolation", "none", *args])
    return exit_status.value.code, capsys.readouterr().err


def test_a_seed_in_the_environment_does_not_stop_a_batch_without_hidden_checks(
        monkeypatch, tmp_path, capsys):
    def reached(*args, **kwargs):
        raise Reached

    monkeypatch.setattr(batch_run, "run_batch", reached)
    monkeypatch.setenv("BACKPROP_LAB_SEED", "s3cret")
    (tmp_path / "subs").mkdir()
    with pytest.raises(Reached):
        main(["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
              "--isolation", "none"])
    # given on the command line without --hidden: refused
    code, stderr = run_main(capsys, tmp_path, "--seed", "s3cret")
    assert code == 2 and "--seed is for hidden checks: add --hidden" in stderr


def test_broken_hidden_checks_stop_the_batch_before_any_grading(monkeypatch, tmp_path, capsys):
    def reached(*args, **kwargs):
        raise Reached

    monkeypatch.setattr(batch_run, "run_batch", reached)
    solutions = tmp_path / "solutions"
    (solutions / "hidden").mkdir(parents=True)
    (solutions / "hidden" / "ex01_activations.py").write_text("def hidden_checks(rng:\n")
    code, stderr = run_main(capsys, tmp_path, "--hidden", "--seed", "s", "--solutions",
                            str(solutions), "--exercises", "ex01")
    assert code == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("grade: ") and "ex01_activations.py" in stderr, stderr
    code, stderr = run_main(capsys, tmp_path, "--hidden", "--seed", "s", "--solutions",
                            str(tmp_path / "nowhere"))
    assert code == 2 and "no solutions folder" in stderr, stderr
