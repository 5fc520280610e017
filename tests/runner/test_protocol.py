"""The wire format alone, without a child process."""

from __future__ import annotations

import io
import math
import os
import pickle
import struct
import threading
import time

import numpy as np
import pytest

from grader.runner.protocol import (
    Channel,
    ChannelClosed,
    DeadlineExceeded,
    Decoder,
    Encoder,
    Handle,
    ProtocolError,
    Unencodable,
    dump_header,
    load_header,
    load_npy,
    npy_frame,
)

ARRAYS = [
    np.arange(6.0).reshape(2, 3),
    np.array(3.5),
    np.zeros((0, 4), dtype=np.int8),
    np.array([True, False]),
    np.arange(5, dtype=np.uint16),
    np.array([1 + 2j, -1j], dtype=np.complex64),
    np.array([1.5, 2.5], dtype=np.float16),
    np.arange(4, dtype=">i4"),
    np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    np.arange(10.0)[::3],
    np.array([1.25], dtype=np.longdouble),
]


@pytest.fixture(autouse=True)
def no_pickle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything in the parent tries to unpickle."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pickle must never be used")

    for name in ("load", "loads", "Unpickler", "_load", "_loads", "_Unpickler"):
        monkeypatch.setattr(pickle, name, refuse, raising=False)


def roundtrip(value: object) -> object:
    encode = Encoder()
    tree = encode(value)
    frames = []
    for a in encode.arrays:
        prefix, data = npy_frame(a)
        frames.append(load_npy(prefix[8:] + bytes(data)))
    decode = Decoder(frames, lambda i, t: Handle(i, t))
    result = decode(load_header(dump_header({"v": tree}))["v"])
    decode.finish()
    return result


def assert_same(got: object, want: object) -> None:
    assert type(got) is type(want) or isinstance(want, np.generic), (got, want)
    if isinstance(want, (np.ndarray, np.generic)):
        assert type(got) is np.ndarray
        assert got.dtype == np.asarray(want).dtype and got.shape == np.shape(want)
        np.testing.assert_array_equal(got, want)
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert_same(g, w)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for k in want:
            assert_same(got[k], want[k])
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == want
        if isinstance(want, float):
            assert math.copysign(1, got) == math.copysign(1, want)


@pytest.mark.parametrize("array", ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_arrays_roundtrip_exactly(array: np.ndarray) -> None:
    assert_same(roundtrip(array), array)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(10**30),
        1.5,
        -0.0,
        math.inf,
        -math.inf,
        math.nan,
        "héllo 😀 \x00",
        [1, [2, (3, "x")]],
        (),
        {"a": {"b": [1.0, None]}, "": ()},
        Handle(7, "Affine"),
        [np.ones(2), (np.zeros(1), {"k": np.arange(3)})],
    ],
    ids=repr,
)
def test_values_roundtrip(value: object) -> None:
    assert_same(roundtrip(value), value)


def test_a_lone_surrogate_arrives_as_a_visible_escape() -> None:
    assert roundtrip(["héllo \ud800 \x00", {"k\udcff": 1}]) == ["héllo \\ud800 \x00",
                                                                {"k\\udcff": 1}]


def test_numpy_scalars_become_0d_arrays() -> None:
    for scalar in (np.float32(1.5), np.int64(-3), np.bool_(True), np.complex128(1j)):
        got = roundtrip(scalar)
        assert type(got) is np.ndarray and got.shape == () and got.dtype == scalar.dtype
        assert got == scalar


def test_subclasses_are_sent_by_their_true_contents() -> None:
    class Liar(np.ndarray):
        def __eq__(self, other: object) -> bool:  # type: ignore[override]
            return True

    class LyingFloat(float):
        def __repr__(self) -> str:
            return "99.0"

    class LyingInt(int):
        def __int__(self) -> int:
            return 99

    class LyingList(list):
        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter([99])

    value = [np.array([1.0, 2.0]).view(Liar), LyingFloat(0.5), LyingInt(3), LyingList([1, 2])]
    got = roundtrip(value)
    assert type(got[0]) is np.ndarray and got[0].tolist() == [1.0, 2.0]
    assert got[1:] == [0.5, 3, [1, 2]]
    assert [type(v) for v in got[1:]] == [float, int, list]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (object(), "an object object"),
        ([1, {"x": [object()]}], "an object object at [1]['x'][0]"),
        (np.array([None]), "an array of dtype object"),
        (np.zeros(2, dtype=[("a", "f8")]), "an array of dtype"),
        (np.array(["s"]), "an array of dtype <U1"),
        ({1: 2}, "a dict with a key of type int"),
        (b"bytes", "a bytes object"),
        pytest.param(10**5000, "an integer with thousands of digits", id="huge-int"),
    ],
)
def test_unencodable_values_say_what_and_where(value: object, message: str) -> None:
    with pytest.raises(Unencodable) as info:
        Encoder()(value)
    assert info.value.describe().startswith(message)


def test_too_deep_nesting_is_refused() -> None:
    value: list = []
    for _ in range(200):
        value = [value]
    with pytest.raises(Unencodable, match="nested"):
        Encoder()(value)


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def test_load_npy_refuses_pickled_object_arrays() -> None:
    with pytest.raises(ProtocolError):
        load_npy(npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True))


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"PK\x03\x04 not an npy but a zip",
        b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8'}",
        # header claims a huge array: refused before anything is allocated
        npy_bytes(np.ones(3)).replace(b"(3,)", b"(9999999999999,)"),
        npy_bytes(np.ones(3))[:-1],  # truncated data
        npy_bytes(np.ones(3)) + b"\x00",  # trailing data
        npy_bytes(np.ones(3, dtype=[("a", "<f8")])),
        npy_bytes(np.ones(3)).replace(b"'<f8'", b"'<M8'"),
    ],
)
def test_load_npy_refuses_malformed_frames(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        load_npy(frame)


@pytest.mark.parametrize(
    "raw",
    [b'{"a":NaN}', b'{"a":1,"a":2}', b"[1]", b'{"a":1}x', b"", '{"é":1}'.encode(), b"{" * 100000],
)
def test_load_header_is_strict(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        load_header(raw)


@pytest.mark.parametrize(
    "tree",
    [
        {"t": "a", "i": 1},
        {"t": "u", "v": 1},
        {"t": "x"},
        {"t": "h", "id": "1", "type": "A"},
        {"plain": "dict"},
        {"t": "f", "v": "nan", "extra": 1},
    ],
)
def test_decoder_refuses_malformed_trees(tree: object) -> None:
    with pytest.raises(ProtocolError):
        Decoder([np.ones(1)], lambda i, t: Handle(i, t))(tree)


def test_decoder_wants_every_array_used() -> None:
    decode = Decoder([np.ones(1), np.ones(2)], lambda i, t: Handle(i, t))
    decode({"t": "a", "i": 0})
    with pytest.raises(ProtocolError):
        decode.finish()


@pytest.fixture
def pipe_pair() -> object:
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def test_channel_roundtrip_with_large_arrays(pipe_pair: tuple[int, int]) -> None:
    r, w = pipe_pair
    big = np.random.default_rng(0).random((512, 1024))  # 4 MiB, more than a pipe holds
    encode = Encoder()
    header = {"id": 3, "value": encode([big, 1])}
    sender = threading.Thread(target=Channel(r, w).send, args=(header, encode.arrays))
    sender.start()
    got, arrays = Channel(r, w).recv(time.monotonic() + 5, expect_id=3)
    sender.join()
    np.testing.assert_array_equal(arrays[0], big)
    assert got["value"] == [{"t": "a", "i": 0}, 1]


def frame(payload: bytes) -> bytes:
    return struct.pack(">Q", len(payload)) + payload


def test_channel_checks_sizes_before_reading(pipe_pair: tuple[int, int]) -> None:
    r, w = pipe_pair
    os.write(w, struct.pack(">Q", 1 << 40))  # announces a 1 TiB frame, sends nothing more
    start = time.monotonic()
    with pytest.raises(ProtocolError):
        Channel(r, w).recv(time.monotonic() + 5, max_bytes=1 << 20)
    assert time.monotonic() - start < 1


def test_channel_checks_whole_message_size(pipe_pair: tuple[int, int]) -> None:
    r, w = pipe_pair
    npy = npy_bytes(np.ones(1000))
    os.write(w, frame(b'{"id":1,"frames":2}') + frame(npy) + frame(npy))
    with pytest.raises(ProtocolError, match="too large"):
        Channel(r, w).recv(time.monotonic() + 5, max_bytes=len(npy) + 100)


def test_channel_refuses_replies_to_other_requests(pipe_pair: tuple[int, int]) -> None:
    r, w = pipe_pair
    os.write(w, frame(b'{"id":2,"frames":0}'))
    with pytest.raises(ProtocolError):
        Channel(r, w).recv(time.monotonic() + 5, expect_id=1)


def test_channel_refuses_pickles_inside_a_valid_message(pipe_pair: tuple[int, int]) -> None:
    r, w = pipe_pair
    evil = npy_bytes(np.array([object()], dtype=object), allow_pickle=True)
    os.write(w, frame(b'{"id":1,"frames":1,"value":{"t":"a","i":0}}') + frame(evil))
    with pytest.raises(ProtocolError):
        Channel(r, w).recv(time.monotonic() + 5, expect_id=1)


def test_channel_deadline_and_close(pipe_pair: tuple[int, int]) -> None:
    r, w = pipe_pair
    channel = Channel(r, w)
    start = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        channel.recv(time.monotonic() + 0.2)
    assert 0.15 < time.monotonic() - start < 1
    os.close(w)
    with pytest.raises(ChannelClosed):
        channel.recv(time.monotonic() + 5)
