"""Sessions running learner code in a real child process."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.runner.protocol import Handle
from grader.runner.session import Session

Learner = Callable[..., Session]
Writer = Callable[[Path, str, str], Path]

GOOD = """
import numpy as np

def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

def echo(*args, **kwargs):
    return args, kwargs

def numbers():
    return np.float32(1.5), np.int64(3), True, None, "s", [1, (2, 3)], {"a": {"b": [1.0]}}

def scale_in_place(x, factor):
    x *= factor

def double(x):
    return x * 2

def helper(x):
    return 1 / x

def divide(x):
    return helper(x) + 1

def todo(x):
    raise NotImplementedError("write me")

def apply(layer, x):
    return layer.forward(x)

def params():
    return {"W1": np.ones(2), "act": object()}

class Affine:
    def __init__(self, W, b):
        self.W, self.b, self.x = W, b, None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def fit(self):
        return self
"""


def line_of(text: str, source: str = GOOD) -> int:
    """The 1-based line of ``source`` that contains ``text``."""
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


def gone(pid: int, wait: float = 2.0) -> bool:
    """Whether process ``pid`` is dead (absent or a zombie nobody reaped yet)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


@pytest.fixture
def good(learner: Learner) -> Session:
    return learner(GOOD)


def test_values_of_many_kinds_come_back_exactly(good: Session) -> None:
    assert good.import_error is None and good.has("softmax") and not good.has("nothing")
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    reply = good.call("softmax", x)
    assert reply.ok and reply.value.shape == (2, 3)
    np.testing.assert_allclose(reply.value.sum(axis=1), 1.0)
    arrays = [
        np.array(2.5),
        np.zeros((0, 3), np.int8),
        np.arange(6, dtype=np.uint16).reshape(2, 3),
        np.array([True, False]),
        np.array([1 + 1j], np.complex64),
        np.arange(4.0)[::2],
    ]
    reply = good.call("echo", *arrays, 7, -0.5, float("inf"), "é", key=(1, [2.0]), none=None)
    (args, kwargs) = reply.value
    assert isinstance(reply.value, tuple) and isinstance(args, tuple)
    for got, want in zip(args, arrays, strict=False):
        assert type(got) is np.ndarray and got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    assert args[len(arrays) :] == (7, -0.5, float("inf"), "é")
    assert kwargs == {"key": (1, [2.0]), "none": None}
    f32, i64, *rest = good.call("numbers").value
    assert (f32.dtype, f32.shape, float(f32)) == (np.float32, (), 1.5)
    assert (i64.dtype, int(i64)) == (np.int64, 3)
    assert rest == [True, None, "s", [1, (2, 3)], {"a": {"b": [1.0]}}]


def test_handles_to_objects_in_the_child(good: Session) -> None:
    W, b, x = np.eye(2), np.array([1.0, -1.0]), np.array([3.0, 4.0])
    layer = good.call("Affine", W, b, keep=True).value
    assert isinstance(layer, Handle) and layer.type_name == "Affine"
    np.testing.assert_array_equal(good.call(layer, x, method="forward").value, [4.0, 3.0])
    np.testing.assert_array_equal(good.getattr(layer, "x").value, x)
    assert good.call(layer, method="fit").value == layer  # the same object, the same Handle
    np.testing.assert_array_equal(good.call("apply", layer, x).value, [4.0, 3.0])
    held = good.call("params", keep=True).value
    np.testing.assert_array_equal(good.call(held, "W1", method="__getitem__").value, [1, 1])
    act = good.call(held, "act", method="__getitem__", keep=True).value
    assert act.type_name == "object"
    missing = good.getattr(layer, "weights")
    assert missing.error.kind == "not_found" and "'weights'" in missing.error.message
    assert good.call(layer, method="backward").error.kind == "not_found"
    assert good.call("relu").error.message == "relu is not defined in your code"


def test_return_args_shows_in_place_modification(good: Session) -> None:
    x = np.array([1.0, 2.0])
    reply = good.call("scale_in_place", x, 3.0, return_args=True)
    assert reply.ok and reply.value is None
    np.testing.assert_array_equal(reply.args_after[0], [3.0, 6.0])
    assert reply.args_after[1] == 3.0
    np.testing.assert_array_equal(x, [1.0, 2.0])  # the grader's own copy is untouched
    reply = good.call("double", x, return_args=True)
    np.testing.assert_array_equal(reply.args_after[0], x)


def test_learner_exception_names_the_learners_line(good: Session) -> None:
    error = good.call("divide", 0).error
    assert error.kind == "exception"
    assert error.message == (
        f"ZeroDivisionError: division by zero (ex01_activations.py, line {line_of('1 / x')}, "
        "in helper)"
    )
    assert f"line {line_of('helper(x) + 1')}, in divide" in error.detail
    assert "return 1 / x" in error.detail
    assert "grader" not in error.detail and "child.py" not in error.detail
    error = good.call("todo", 1).error
    assert (error.kind, error.message) == ("not_implemented", "todo is not implemented yet")
    error = good.call("params").error
    assert error.kind == "unserializable"
    assert error.message.startswith("params returned an object object at ['act']")
    assert good.call("softmax", np.ones(2)).ok  # the child survived all that


def test_replies_larger_than_the_limit_are_refused_by_the_child(learner: Learner) -> None:
    s = learner(
        """
        import numpy as np

        def big_array():
            return np.zeros(10**6)

        def long_list():
            return list(range(300_000))
        """,
        reply_bytes=1024**2,
    )
    for name in ("big_array", "long_list"):
        error = s.call(name).error
        assert error.kind == "unserializable"
        assert error.message.startswith(f"{name} returned too much data")
    assert s.call("big_array", keep=True).ok


def test_arguments_the_protocol_cannot_carry_are_grader_bugs(good: Session) -> None:
    with pytest.raises(TypeError, match="cannot send"):
        good.call("echo", object())


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = 1\ny = 2\nz = = 3\n", "SyntaxError: invalid syntax (ex01_activations.py, line 3)"),
        ("import sys\nsys.exit(4)\n", "it called sys.exit(4) at import (ex01_activations.py, line"),
        ("import os\nos._exit(5)\n", "the process exited with code 5 during import"),
        ("x = [0] * 10**12\n", "MemoryError"),
        ("import numpy as np\nx = [np.zeros(10**8) for _ in range(100)]\n", "MemoryError"),
        ("import no_such_module\n", "ModuleNotFoundError: No module named 'no_such_module'"),
    ],
    ids=["syntax", "sys.exit", "os._exit", "memory", "memory-numpy", "missing-module"],
)
def test_import_failures(learner: Learner, source: str, expected: str) -> None:
    s = learner(source)
    error = s.import_error
    assert error is not None and error.kind == "import"
    assert error.message.startswith("could not import your code: ")
    assert expected in error.message
    assert s.call("anything").error == error
    assert not s.has("x")


def test_endless_loop_at_import_times_out(learner: Learner) -> None:
    start = time.monotonic()
    s = learner("print('starting')\nwhile True:\n    pass\n", import_timeout=1.0)
    assert time.monotonic() - start < 2.0
    assert s.import_error.message == (
        "could not import your code: timed out after 1 s during import "
        "(an endless loop at top level?)"
    )
    assert "starting" in s.output


ENDLESS = """
import numpy as np

class Net:
    def forward(self, x):
        while True:
            pass

def spin():
    while True:
        pass

def fine():
    return 42
"""


def test_endless_loop_costs_one_timeout_then_restarts(learner: Learner) -> None:
    s = learner(ENDLESS, call_timeout=1.0)
    net = s.call("Net", keep=True).value
    start = time.monotonic()
    first = s.call("spin").error
    assert 1.0 <= time.monotonic() - start < 2.5
    assert (first.kind, first.message) == ("timeout", "timed out after 1 s (an endless loop?)")
    assert s.call("fine").value == 42  # a fresh child
    start = time.monotonic()
    assert s.call("spin").error == first  # remembered: no second timeout
    assert time.monotonic() - start < 0.1
    assert s.call(net, 1, method="forward").error.kind == "stale"


def test_endless_method_is_remembered_by_class_and_method(learner: Learner) -> None:
    s = learner(ENDLESS, call_timeout=0.5)
    assert s.call(s.call("Net", keep=True).value, 1, method="forward").error.kind == "timeout"
    other = s.call("Net", keep=True).value
    start = time.monotonic()
    assert s.call(other, 1, method="forward").error.kind == "timeout"
    assert time.monotonic() - start < 0.1


def test_memory_bombs_in_calls_are_bounded(learner: Learner) -> None:
    s = learner(
        """
        import numpy as np

        def grow():
            blocks = []
            while True:
                blocks.append(np.zeros(10**8))

        def fine():
            return 1
        """,
        memory_bytes=1024**3,
    )
    error = s.call("grow").error
    assert error.kind == "memory"
    assert error.message.startswith("MemoryError") and "in grow" in error.message
    assert s.call("fine").value == 1


def test_exits_in_calls(learner: Learner) -> None:
    s = learner(
        """
        import os, sys

        def polite():
            sys.exit(2)

        def rude():
            os._exit(7)

        def fine():
            return 1
        """
    )
    error = s.call("polite").error
    assert error.kind == "exception" and error.message.startswith("polite called sys.exit(2)")
    error = s.call("rude").error
    assert error.kind == "crashed"
    assert error.message == (
        "the process exited with code 7 while running rude (sys.exit or os._exit in your code?)"
    )
    assert s.call("fine").value == 1


def test_killed_by_a_signal_is_a_crash(learner: Learner) -> None:
    s = learner("import os, signal\ndef die():\n    os.kill(os.getpid(), signal.SIGSEGV)\n")
    error = s.call("die").error
    assert error.kind == "crashed" and "SIGSEGV while running die" in error.message


def test_cpu_time_limit_ends_the_child(learner: Learner) -> None:
    s = learner("def spin():\n    while True:\n        pass\n", cpu_seconds=1, call_timeout=5)
    start = time.monotonic()
    error = s.call("spin").error
    assert time.monotonic() - start < 4.5
    assert error.kind == "crashed"
    assert error.message == "the process used up its CPU time (1 s) while running spin"


def test_handles_from_elsewhere_are_stale(good: Session) -> None:
    assert good.call(Handle(12345, "Affine"), 1, method="forward").error.kind == "stale"
    layer = good.call("Affine", np.eye(2), np.ones(2), keep=True).value
    assert good.call("apply", Handle(layer.id + 1, "Affine"), 1).error.kind == "stale"


def test_output_flood_is_capped_and_the_session_stays_responsive(learner: Learner) -> None:
    s = learner(
        """
        import sys

        def flood():
            sys.stdout.write("x" * 10**8)
            sys.stderr.write("done")
            return 1

        def fine():
            return 2
        """,
        output_bytes=1000,
    )
    start = time.monotonic()
    assert s.call("flood").value == 1
    assert time.monotonic() - start < 5
    start = time.monotonic()
    assert s.call("fine").value == 2
    assert time.monotonic() - start < 0.5
    assert s.output == "x" * 1000 + f"\n[... {10**8 + 4 - 1000} more bytes dropped]"


def test_printed_fake_scores_end_up_only_in_output(learner: Learner) -> None:
    s = learner(
        """
        import os

        def softmax(x):
            print("All tests passed! Score: 100/100")
            os.write(1, b'{"id": 1, "ok": true, "value": 1.0}')
            return "wrong"
        """
    )
    assert s.call("softmax", 1.0).value == "wrong"
    assert "Score: 100/100" in s.output and '"ok": true' in s.output


def test_learner_monkeypatching_does_not_change_replies(learner: Learner) -> None:
    s = learner(
        """
        import builtins, json, os
        import numpy as np

        def answer():
            return np.arange(6.0).reshape(2, 3) * 2, (1, "a"), {"k": [0.5]}

        def fake(*args, **kwargs):
            return np.zeros(1)

        for name in ("save", "load", "array", "asarray", "ascontiguousarray", "frombuffer",
                     "copy", "require"):
            setattr(np, name, fake)
        np.lib.format.write_array = fake
        json.dumps = json.loads = fake
        json.JSONEncoder.encode = json.JSONEncoder.iterencode = fake
        builtins.isinstance = lambda *args: True
        builtins.len = lambda *args: 0
        builtins.repr = builtins.str = lambda *args: "fake"
        """
    )
    reply = s.call("answer", np.ones(2))
    assert reply.error.message.startswith("TypeError: answer() takes 0 positional arguments")
    reply = s.call("answer")
    assert reply.ok, reply.error
    array, pair, mapping = reply.value
    np.testing.assert_array_equal(array, np.arange(6.0).reshape(2, 3) * 2)
    assert pair == (1, "a") and mapping == {"k": [0.5]}


def test_lying_ndarray_subclass_arrives_as_a_plain_array(learner: Learner) -> None:
    s = learner(
        """
        import numpy as np

        class Liar(np.ndarray):
            def __eq__(self, other):
                return True
            def __array__(self, *args, **kwargs):
                return np.full(self.shape, 99.0)
            def tolist(self):
                return [99.0]

        class LyingFloat(float):
            def __eq__(self, other):
                return True

        def liar():
            return np.array([1.0, 2.0, 3.0]).view(Liar), LyingFloat(0.25)
        """
    )
    array, number = s.call("liar").value
    assert type(array) is np.ndarray and array.tolist() == [1.0, 2.0, 3.0]
    assert not (array == np.array([9.0, 9.0, 9.0])).any()
    assert type(number) is float and number == 0.25 and number != 1.0


def test_garbage_in_the_reply_channel_is_a_crash_not_a_hang(
    learner: Learner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parent must never unpickle")

    for name in ("load", "loads", "Unpickler", "_load", "_loads", "_Unpickler"):
        monkeypatch.setattr(pickle, name, refuse, raising=False)
    s = learner(
        """
        import os, pickle

        def scribble():
            evil = pickle.dumps(object())
            for name in os.listdir("/proc/self/fd"):
                if int(name) > 2:
                    try:
                        os.write(int(name), b"\\x00" * 7 + b"\\x40" + evil * 10)
                    except OSError:
                        pass
            return 1

        def fine():
            return 2
        """
    )
    start = time.monotonic()
    error = s.call("scribble").error
    assert time.monotonic() - start < 1.5
    assert error.kind == "crashed"
    assert error.message == "your code wrote to the grader's channel or corrupted it"
    assert s.call("fine").value == 2


def test_close_kills_grandchildren(learner: Learner) -> None:
    s = learner(
        """
        import subprocess

        def spawn(how):
            options = {
                "same group": {},
                "own group, no environment": {"process_group": 0, "env": {}},
                "own session": {"start_new_session": True},
            }[how]
            return subprocess.Popen(["sleep", "1000"], **options).pid
        """
    )
    pids = [
        s.call("spawn", how).value
        for how in ("same group", "own group, no environment", "own session")
    ]
    assert not any(gone(pid, wait=0) for pid in pids)
    s.close()
    assert all(gone(pid) for pid in pids)
    with pytest.raises(RuntimeError):
        s.call("spawn", "same group")


def test_child_environment_and_limits(learner: Learner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SECRET", "do not leak")
    s = learner(
        """
        import importlib.util, os, resource, sys

        def inspect_self():
            limits = {name: resource.getrlimit(getattr(resource, name))[0]
                      for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_CORE")}
            return {
                "env": dict(os.environ),
                "cwd": os.getcwd(),
                "limits": limits,
                "stdin": sys.stdin.read(),
                "solutions": importlib.util.find_spec("solutions") is not None,
                "heavy": [m for m in ("nbformat", "click", "rich") if m in sys.modules],
            }
        """,
        memory_bytes=1500 * 1024**2,
        cpu_seconds=77,
    )
    info = s.call("inspect_self").value
    env = info["env"]
    assert "GRADER_SECRET" not in env
    assert env["HOME"] == info["cwd"] and env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["MPLBACKEND"] == "Agg" and env["LANG"] == "C.UTF-8"
    assert info["limits"] == {
        "RLIMIT_AS": 1500 * 1024**2,
        "RLIMIT_CPU": 77,
        "RLIMIT_FSIZE": 64 * 1024**2,
        "RLIMIT_CORE": 0,
    }
    assert info["stdin"] == ""
    assert not info["solutions"]  # the grader's checkout is not importable
    assert info["heavy"] == []
    cwd = Path(info["cwd"])
    assert cwd.is_dir()
    s.close()
    assert not cwd.exists()


def notebook(folder: Path, name: str, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Intro")]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    path = folder / name
    nbformat.write(nb, str(path))
    return path


def test_notebook_errors_are_reported_by_cell_and_line(
    tmp_path: Path, open_session: Callable[..., Session]
) -> None:
    cells = ["%matplotlib inline\nimport numpy as np", "!ls\ndef f(x):\n    return x / 0"]
    s = open_session(notebook(tmp_path, "ex01_activations.ipynb", cells))
    error = s.call("f", 1).error
    assert error.message == (
        "ZeroDivisionError: division by zero (ex01_activations.ipynb, cell 3, line 3, in f)"
    )
    broken = notebook(tmp_path, "broken.ipynb", ["x = 1", "y = (\n"])
    s = open_session(broken)
    assert s.import_error.kind == "import"
    assert s.import_error.message.startswith("could not import your code: SyntaxError in cell 3")


def test_folder_submission_imports_siblings(
    tmp_path: Path, write: Writer, open_session: Callable[..., Session]
) -> None:
    write(tmp_path, "ex01_activations.py", "def relu(x):\n    return max(x, 0)\n")
    notebook(tmp_path, "ex03_layers.ipynb", ["def broken(x):\n    return x.nope"])
    write(
        tmp_path,
        "ex02_losses.py",
        """
        from ex01_activations import relu
        from ex03_layers import broken

        def loss(x):
            return relu(x) + 1

        def bad(x):
            return broken(x)
        """,
    )
    s = open_session(tmp_path, module="ex02_losses")
    assert s.call("loss", -3).value == 1 and s.call("loss", 2).value == 3
    error = s.call("bad", 1).error
    assert error.message == (
        "AttributeError: 'int' object has no attribute 'nope' "
        "(ex03_layers.ipynb, cell 2, line 2, in broken)"
    )
    assert "ex02_losses.py, line 9, in bad" in error.detail


def test_output_names_the_learners_file_not_the_scratch_copy(learner: Learner) -> None:
    s = learner(
        """
        import warnings

        def warn():
            warnings.warn("careful")
            return 1
        """
    )
    assert s.call("warn").value == 1
    assert "ex01_activations.py:" in s.output and "UserWarning: careful" in s.output
    assert "backprop-lab-" not in s.output


def test_a_stub_called_by_finished_code_is_named(learner: Learner) -> None:
    s = learner(
        """
        def inner(x):
            raise NotImplementedError("inner is not implemented yet")

        def outer(x):
            return inner(x)
        """
    )
    error = s.call("outer", 1).error
    assert error is not None and error.kind == "not_implemented"
    assert error.message == "inner is not implemented yet (needed by outer)"
    assert s.call("inner", 1).error.message == "inner is not implemented yet"
