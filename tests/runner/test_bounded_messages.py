"""Hostile replies on the wire: every message is bounded before it is parsed or read.

The child refuses to send what the grader would refuse ("returned too much data"); a child whose
code writes to the reply pipe itself is refused by the grader before the excess is read, in
bounded time, without deep recursion and without building big Python objects.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from grader.runner import protocol
from grader.runner.limits import Limits
from grader.runner.protocol import (
    MAX_JSON_DEPTH,
    Channel,
    Encoder,
    ProtocolError,
    TooLarge,
    Unencodable,
    json_problem,
    npy_frame,
)
from grader.runner.session import Session


def frame(payload: bytes) -> bytes:
    return struct.pack(">Q", len(payload)) + payload


@pytest.fixture
def pipe_pair() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def feed(w: int, data: bytes) -> threading.Thread:
    """Write ``data`` to ``w`` from a thread (more than a pipe holds), ignoring a closed pipe."""

    def run() -> None:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(w, view[: 1 << 16]) :]
        except OSError:
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_deep_nesting_is_refused_quickly_before_parsing(
    pipe_pair: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    r, w = pipe_pair
    deep = b'{"id":1,"frames":0,"value":' + b"[" * 400_000 + b"]" * 400_000 + b"}"
    monkeypatch.setattr(protocol, "_scan_once", lambda *a: pytest.fail("parsed"))
    feed(w, frame(deep))
    start = time.monotonic()
    with pytest.raises(TooLarge, match=f"nested more than {MAX_JSON_DEPTH} levels"):
        Channel(r, w).recv(time.monotonic() + 5, max_header=1 << 20)
    assert time.monotonic() - start < 0.5


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = b'{"msg":"' + b"[{" * 5000 + b'\\"[[["' + b',"k":[[1]]}'
    assert json_problem(text) is None
    assert json_problem(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)) is not None


def test_too_many_json_values_are_refused_before_parsing(
    pipe_pair: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    r, w = pipe_pair
    many = b'{"id":1,"frames":0,"value":[' + b",".join([b"0.5"] * 200_000) + b"]}"
    monkeypatch.setattr(protocol, "_scan_once", lambda *a: pytest.fail("parsed"))
    feed(w, frame(many))
    with pytest.raises(TooLarge, match="JSON values"):
        Channel(r, w).recv(time.monotonic() + 5, max_header=1 << 20)


def test_a_json_frame_over_the_cap_is_refused_from_its_length(pipe_pair: tuple[int, int]) -> None:
    r, w = pipe_pair
    os.write(w, struct.pack(">Q", 8 * 10**6))  # 8 MB of JSON announced, none sent
    start = time.monotonic()
    with pytest.raises(TooLarge, match="8000000 bytes of JSON"):
        Channel(r, w).recv(time.monotonic() + 5, max_header=Limits().header_bytes)
    assert time.monotonic() - start < 0.5


def test_array_elements_are_bounded_from_the_header_before_the_data(
    pipe_pair: tuple[int, int],
) -> None:
    r, w = pipe_pair
    big = np.zeros(10**6, dtype=np.uint8)
    prefix, _ = npy_frame(big)  # the header only: the data is never sent
    os.write(w, frame(b'{"id":1,"frames":1,"value":{"t":"a","i":0}}') + prefix)
    with pytest.raises(TooLarge, match="1000000 elements"):
        Channel(r, w).recv(time.monotonic() + 5, max_elements=10**5)


def test_receiving_an_array_costs_about_its_own_size(pipe_pair: tuple[int, int]) -> None:
    r, w = pipe_pair
    array = np.arange(5 * 10**6, dtype=np.float64)  # 40 MB
    encode = Encoder()
    header = {"id": 1, "value": encode(array)}
    sender = threading.Thread(target=Channel(r, w).send, args=(header, encode.arrays))
    tracemalloc.start()
    try:
        sender.start()
        _, [got] = Channel(r, w).recv(time.monotonic() + 10, expect_id=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        sender.join()
    np.testing.assert_array_equal(got, array)
    assert peak < 1.2 * array.nbytes  # no bytes copy, no np.load copy


def test_sender_refuses_what_the_receiver_would() -> None:
    r, w = os.pipe()
    try:
        channel = Channel(r, w)
        deep: list = []
        for _ in range(50):
            deep = [deep, (deep,)]
        with pytest.raises(Unencodable, match="JSON values"):
            channel.send({"value": [0] * 200_000}, [], max_header=1 << 22, max_bytes=1 << 30)
        with pytest.raises(Unencodable, match="elements"):
            channel.send({"value": 0}, [np.zeros(1 << 25, np.uint8)], max_bytes=1 << 30)
    finally:
        os.close(r)
        os.close(w)


# --------------------------------------------------------------------- through a Session

@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("return np.ones(80 * 10**6, np.uint8)", "arrays of more than 16777216 elements"),
        ("return np.ones(70 * 2**20 // 8)", "bytes (the limit is 67108864)"),
        ("return [[[0.5] * 100] * 20] * 1000", "more than 100000 values"),
        ("return [0.5] * 10_000_000", "more than 100000 values"),
        ("return [\"x\" * 1000] * 2000", "bytes of JSON (the limit is 1048576)"),
    ],
    ids=["80 MB of bytes", "70 MiB of floats", "8 MB nested JSON", "10 M-element list",
         "2 MB of JSON"],
)
def test_the_child_refuses_too_large_replies(
    learner: Callable[..., Session], body: str, expected: str
) -> None:
    s = learner(f"import numpy as np\n\ndef big():\n    {body}\n\ndef small():\n    return 1\n",
                memory_bytes=2 * 1024**3, call_timeout=10)
    start = time.monotonic()
    error = s.call("big").error
    assert time.monotonic() - start < 3  # refused as soon as the excess is met
    assert error is not None and error.kind == "unserializable", error
    assert error.message.startswith("big returned too much data: ") and expected in error.message
    assert s.call("small").value == 1  # the same child goes on


FORGE = """
import gc, os, struct

def forge(json, tail=b""):
    server = next(o for o in gc.get_objects() if type(o).__name__ == "_Server")
    raw = json.replace(b"ID", str(server.current_id).encode(), 1)
    data = struct.pack(">Q", len(raw)) + raw + tail
    for i in range(0, len(data), 65536):
        os.write(server.channel._wfd, data[i:i + 65536])
    import time
    time.sleep(60)
"""


@pytest.mark.parametrize(
    ("forged", "expected"),
    [
        ("b'{\"id\":ID,\"ok\":true,\"frames\":0,\"value\":[' "
         "+ b','.join([b'[0.5]'] * 1_400_000) + b']}'", "bytes of JSON (the limit is 1048576)"),
        ("b'{\"id\":ID,\"ok\":true,\"frames\":0,\"value\":' "
         "+ b'[' * 300_000 + b']' * 300_000 + b'}'", "JSON nested more than"),
        ("b'{\"id\":ID,\"ok\":true,\"frames\":1,\"value\":{\"t\":\"a\",\"i\":0}}', "
         "struct.pack('>Q', 400 * 10**6)", "(the limit is 67108864)"),
    ],
    ids=["forged 8 MB JSON", "forged deep nesting", "forged 400 MB array"],
)
def test_forged_replies_are_refused_as_too_much_data(
    learner: Callable[..., Session], forged: str, expected: str
) -> None:
    s = learner(FORGE + f"\ndef big():\n    forge({forged})\n\ndef small():\n    return 1\n")
    start = time.monotonic()
    error = s.call("big").error
    assert time.monotonic() - start < 2
    assert error is not None and error.kind == "unserializable", error
    assert error.message.startswith("big returned too much data: ") and expected in error.message
    assert s.call("small").value == 1  # a new child


def test_reply_caps_fit_the_largest_legitimate_reply() -> None:
    """Measured with the solutions: 9.4 MB per reply, 8.2 KB of JSON, 2.4 Mi elements."""
    limits = Limits()
    assert 4 * 9_432_191 <= limits.reply_bytes <= 8 * 9_432_191
    assert 64 * 8_167 <= limits.header_bytes <= 4 * 1024**2
    assert 4 * 2_352_000 <= protocol.MAX_ELEMENTS <= 8 * 2_352_000
    with pytest.raises(ProtocolError):
        raise TooLarge("x")
