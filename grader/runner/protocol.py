"""Wire format between the grader and the child process that runs learner code.

A *frame* is an 8-byte big-endian length followed by that many bytes. A *message* is one JSON frame
(an ASCII object whose ``"frames"`` member says how many frames follow) and then that many ``.npy``
frames, one per array. Values travel as JSON trees in which these tagged objects stand for what
JSON cannot say::

    {"t": "u", "v": [...]}            tuple (a plain JSON list is a list)
    {"t": "d", "v": {...}}            dict with str keys
    {"t": "a", "i": k}                the k-th array of the message (k = 0, 1, ... in order)
    {"t": "f", "v": "nan"|"inf"|"-inf"}
    {"t": "h", "id": n, "type": name} Handle of an object that lives in the child

The parent trusts nothing it receives: JSON is parsed strictly, sizes are checked before reading,
and an array's bytes are copied into a fresh plain ndarray only after its header was checked to
describe a plain numeric or bool array of exactly the frame's size. Nothing is unpickled.

Every message is bounded before it is decoded (see ``Budget``): the JSON frame's size, how many
values it holds and how deeply they nest (a byte scan before parsing, so the parser never builds a
huge object graph nor recurses deeply), the number of arrays, their total element count and the
whole message's size. What exceeds a bound raises TooLarge, before the excess is read.

This module is imported by the child before the learner's code. Every function it calls is bound
here at import time (and builtins come from a private snapshot), so learner code that patches
numpy, json, os or builtins in its own process does not change how messages are encoded.
"""

from __future__ import annotations

import builtins
import json
import json.encoder as _json_encoder
import math
import os
import re
import select
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# Functions defined below look builtins up in this private copy, not in the builtins module.
__builtins__ = dict(builtins.__dict__)

_json_dumps = json.dumps
_isfinite = math.isfinite
_os_read = os.read
_os_readv = os.readv
_os_write = os.write
_new_poll = select.poll
_POLLIN, _POLLOUT = select.POLLIN, select.POLLOUT
_monotonic = time.monotonic
_ndarray = np.ndarray
_generic = np.generic
_uint8 = np.uint8
_np_array = np.array
_np_dtype = np.dtype
_np_frombuffer = np.frombuffer
_np_empty = np.empty
_int8, _int32 = np.int8, np.int32
_max_reduce = np.maximum.reduce
_float_value = float.__float__  # the true value of a float subclass instance
_int_value = int.__int__
_str_value = str.__str__
_list_items = list.copy
_tuple_iter = tuple.__iter__
_dict_items = dict.items

_LEN = struct.Struct(">Q")
_NPY_MAGIC_V1 = b"\x93NUMPY\x01\x00"
_U16 = struct.Struct("<H")
_NPY_HEADER = re.compile(
    rb"\x93NUMPY\x01\x00..\{'descr': '([^'\\]{1,32})', 'fortran_order': False, "
    rb"'shape': \(([0-9, ]{0,1500})\), \} *\n",
    re.DOTALL,
)

MAX_DEPTH = 100  # deepest nesting of lists, tuples and dicts in one value
# A tuple or dict nests two JSON levels ({"t": "u", "v": [...]}), the message object one more.
MAX_JSON_DEPTH = 2 * MAX_DEPTH + 8  # deepest bracket nesting of one JSON frame
MAX_JSON_VALUES = 100_000  # JSON values (and keys) in one frame; the solutions send at most ~500
MAX_ELEMENTS = 1 << 24  # array elements in one message (16 Mi); the solutions send at most 2.4 Mi
MAX_DIMS = 32  # dimensions of one array (numpy 1.x's limit)
_MAX_NPY_HEADER = 4096  # longest .npy header accepted (npy_frame writes at most ~1600 bytes)
_blank_strings = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"').sub  # bound: re.sub is Python
MAX_INT_BITS = 14_000  # ints up to ~4200 digits (Python's int-to-str limit is 4300)
ARRAY_KINDS = frozenset("biufc")  # bool, signed, unsigned, float, complex
_JOIN_BELOW = 1 << 20  # messages smaller than this go out in one write()
_READ_CHUNK = 1 << 20
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


class TooLarge(ProtocolError):
    """A message is larger than its receiver accepts: bytes, values, nesting or elements.

    ``what`` says which bound, for the learner (``"70000000 bytes (the limit is 67108864)"``).
    """

    def __init__(self, what: str) -> None:
        super().__init__(f"message too large: {what}")
        self.what = what


class ChannelClosed(Exception):
    """The other side closed the channel or its process exited."""


class DeadlineExceeded(Exception):
    """The deadline passed before the message was completely sent or received."""


@dataclass(frozen=True)
class Handle:
    """An object that lives in the child process; pass it back to Session.call / getattr."""

    id: int
    type_name: str


class Unencodable(Exception):
    """A value holds something the protocol cannot carry; ``describe()`` says what and where.

    ``big`` when it is too much data rather than something of the wrong kind."""

    def __init__(self, what: str, big: bool = False) -> None:
        super().__init__(what)
        self.what = what
        self.big = big
        self.path: list[str] = []

    def describe(self) -> str:
        """E.g. ``"a Foo object at [2]['W']"``."""
        where = "".join(reversed(self.path))
        return f"{self.what} at {where}" if where else self.what


def handle_tag(handle_id: int, type_name: str) -> dict[str, Any]:
    """The JSON tag for a Handle."""
    return {"t": "h", "id": handle_id, "type": type_name}


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in ("a", "e", "i", "o", "u") else f"a {noun}"


def type_label(t: type) -> str:
    """The qualified name of class ``t``, read without running code a metaclass may define."""
    try:
        name = type.__dict__["__qualname__"].__get__(t)
    except Exception:
        name = "?"
    return name if type(name) is str else "?"


def dtype_allowed(dtype: np.dtype) -> bool:
    """Whether arrays of ``dtype`` may travel: plain bool, integer, float or complex only."""
    return dtype.kind in ARRAY_KINDS and dtype.fields is None and dtype.subdtype is None


class Encoder:
    """Turns values into JSON trees, collecting their arrays in ``self.arrays``.

    ``ref(obj)`` may return a Handle for an object that cannot be encoded otherwise (the child uses
    it for objects it already holds). Subclass instances of int/float/str/list/tuple/dict are
    encoded by their true contents; ndarray subclasses and numpy scalars become plain ndarrays.
    """

    def __init__(self, ref: Callable[[object], Handle | None] | None = None) -> None:
        self.arrays: list[np.ndarray] = []
        self._ref = ref
        self._values = self._elements = 0  # counted as they are met, to stop a huge value early

    def __call__(self, value: object) -> Any:
        """Encode one value; raises Unencodable."""
        return self._enc(value, 0)

    def _enc(self, v: object, depth: int) -> Any:
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            if v.bit_length() > MAX_INT_BITS:
                raise Unencodable("an integer with thousands of digits")
            return v
        if t is float:
            return v if _isfinite(v) else {"t": "f", "v": "nan" if v != v else repr(v)}
        if issubclass(t, str):
            return _str_value(v)
        if issubclass(t, (_ndarray, _generic)):
            return self._array(v)
        if issubclass(t, int):
            return self._enc(_int_value(v), depth)
        if issubclass(t, float):
            return self._enc(_float_value(v), depth)
        if t is Handle:
            return handle_tag(v.id, v.type_name)
        if issubclass(t, (list, tuple, dict)):
            if depth >= MAX_DEPTH:
                raise Unencodable(f"something nested more than {MAX_DEPTH} levels deep")
            if issubclass(t, list):
                return self._items(_list_items(v), depth)
            if issubclass(t, tuple):
                return {"t": "u", "v": self._items(list(_tuple_iter(v)), depth)}
            return {"t": "d", "v": self._dict(v, depth)}
        handle = self._ref(v) if self._ref is not None else None
        if handle is not None:
            return handle_tag(handle.id, handle.type_name)
        raise Unencodable(f"{_article(type_label(t))} object")

    def _count(self, values: int) -> None:
        self._values += values
        if self._values > MAX_JSON_VALUES:
            raise Unencodable(f"more than {MAX_JSON_VALUES} values", big=True)

    def _items(self, items: list, depth: int) -> list:
        self._count(len(items))
        out = []
        for i, x in enumerate(items):
            try:
                out.append(self._enc(x, depth + 1))
            except Unencodable as e:
                e.path.append(f"[{i}]")
                raise
        return out

    def _dict(self, d: dict, depth: int) -> dict:
        self._count(2 * dict.__len__(d))
        out = {}
        for k, x in _dict_items(d):
            if not issubclass(type(k), str):
                raise Unencodable(f"a dict with a key of type {type_label(type(k))}")
            k = _str_value(k)
            try:
                out[k] = self._enc(x, depth + 1)
            except Unencodable as e:
                e.path.append(f"[{k!r}]")
                raise
        return out

    def _array(self, v: np.ndarray | np.generic) -> dict[str, Any]:
        a = v if type(v) is _ndarray else _np_array(v, subok=False)
        if not dtype_allowed(a.dtype):
            raise Unencodable(f"an array of dtype {a.dtype}")
        self._elements += a.size
        if self._elements > MAX_ELEMENTS:
            raise Unencodable(f"arrays of more than {MAX_ELEMENTS} elements in all", big=True)
        self.arrays.append(a)
        return {"t": "a", "i": len(self.arrays) - 1}


class Decoder:
    """Turns JSON trees back into values; raises ProtocolError on anything malformed.

    ``handle(id, type_name)`` gives the value for a Handle tag. Call ``finish()`` after decoding
    every part of a message to check that each array was used exactly once.
    """

    def __init__(self, arrays: list[np.ndarray], handle: Callable[[int, str], object]) -> None:
        self._arrays = arrays
        self._handle = handle
        self._next = 0

    def __call__(self, tree: Any) -> Any:
        """Decode one value."""
        return self._dec(tree, 0)

    def finish(self) -> None:
        """Raise ProtocolError unless every announced array was used."""
        if self._next != len(self._arrays):
            raise ProtocolError("a message announced arrays it did not use")

    def _dec(self, o: Any, depth: int) -> Any:
        t = type(o)
        if o is None or t is bool or t is int or t is float or t is str:
            return o
        if depth > MAX_DEPTH:
            raise ProtocolError("value nested too deeply")
        if t is list:
            return [self._dec(x, depth + 1) for x in o]
        if t is not dict:
            raise ProtocolError("malformed value")
        tag, v = o.get("t"), o.get("v")
        if tag == "u" and type(v) is list and len(o) == 2:
            return tuple(self._dec(x, depth + 1) for x in v)
        if tag == "d" and type(v) is dict and len(o) == 2:
            return {k: self._dec(x, depth + 1) for k, x in v.items()}
        if tag == "f" and v in _NONFINITE and len(o) == 2:
            return _NONFINITE[v]
        if tag == "a" and len(o) == 2:
            return self._array(o.get("i"))
        if tag == "h" and len(o) == 3 and type(o.get("id")) is int and type(o.get("type")) is str:
            return self._handle(o["id"], o["type"])
        raise ProtocolError("malformed value")

    def _array(self, i: Any) -> np.ndarray:
        if type(i) is not int or i != self._next or i >= len(self._arrays):
            raise ProtocolError("bad array reference")
        self._next += 1
        return self._arrays[i]


def _npy_prefix(a: np.ndarray) -> bytes:
    """Magic and header of a version 1.0 .npy file for C-ordered ``a``."""
    header = f"{{'descr': {a.dtype.str!r}, 'fortran_order': False, 'shape': {a.shape!r}, }}"
    pad = -(len(_NPY_MAGIC_V1) + 2 + len(header) + 1) % 64
    text = (header + " " * pad + "\n").encode("latin1")
    return _NPY_MAGIC_V1 + _U16.pack(len(text)) + text


def npy_frame(a: np.ndarray) -> tuple[bytes, memoryview]:
    """The frame for one array: length + .npy header, and the raw data (not copied if C-ordered)."""
    if not a.flags.c_contiguous:
        a = a.copy(order="C")
    prefix = _npy_prefix(a)
    data = memoryview(a.reshape(-1).view(_uint8))
    return _LEN.pack(len(prefix) + data.nbytes) + prefix, data


def npy_header(prefix: bytes) -> tuple[np.dtype, tuple[int, ...], int]:
    """``(dtype, shape, element count)`` from the magic and header of a .npy frame (exactly as
    npy_frame() writes them, nothing after), or ProtocolError."""
    if len(prefix) < 10 or not prefix.startswith(_NPY_MAGIC_V1):
        raise ProtocolError("bad .npy magic")
    match = _NPY_HEADER.fullmatch(prefix)
    if match is None:
        raise ProtocolError("bad .npy header")
    descr, shape_text = match.group(1).decode("latin1"), match.group(2).decode("latin1")
    try:
        dtype = _np_dtype(descr)
    except Exception:
        raise ProtocolError("bad .npy dtype") from None
    shape = tuple(int(n) for n in shape_text.split(",") if n.strip())
    if dtype.str != descr or f"({shape_text})" != repr(shape):
        raise ProtocolError("non-canonical .npy header")
    if not dtype_allowed(dtype):
        raise ProtocolError(f"refused array dtype {dtype}")
    count = nonzero = 1
    for n in shape:
        count *= n
        nonzero *= n or 1
    # numpy refuses more dimensions, and shapes whose sizes overflow even with a zero among
    # them ((10**20, 0)): judged here, so that no reshape raises past the reader
    if len(shape) > MAX_DIMS or nonzero * max(dtype.itemsize, 1) >= 1 << 62:
        raise ProtocolError("impossible .npy shape")
    return dtype, shape, count


def _npy_prefix_size(first10: bytes) -> int:
    if len(first10) < 10 or not first10.startswith(_NPY_MAGIC_V1):
        raise ProtocolError("bad .npy magic")
    size = 10 + _U16.unpack(first10[8:10])[0]
    if size > _MAX_NPY_HEADER:
        raise ProtocolError("bad .npy header")
    return size


def load_npy(buf: bytes, *, trusted: bool = False) -> np.ndarray:
    """Read one .npy frame (header and data in ``buf``) as a plain numeric/bool ndarray, or raise
    ProtocolError. The header must be exactly as npy_frame() writes it and describe an array of
    exactly the frame's size; the data is copied into a fresh array (``trusted`` is ignored:
    both directions read the same way)."""
    offset = _npy_prefix_size(buf[:10])
    dtype, shape, count = npy_header(buf[:offset])
    if len(buf) - offset != count * dtype.itemsize:
        raise ProtocolError("array frame size does not match its header")
    return _np_frombuffer(buf, dtype, count, offset).reshape(shape).copy()


def _no_default(o: object) -> None:
    raise TypeError(f"cannot write {type(o).__name__} as JSON")


def _reject_constant(name: str) -> None:
    raise ProtocolError(f"non-standard JSON constant {name}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise ProtocolError("duplicate key in JSON object")
    return d


# The C encoder and scanner of the json module, bound now: json's Python-level code looks up
# builtins that learner code could patch.
try:
    _iterencode = _json_encoder.c_make_encoder(
        None, _no_default, _json_encoder.c_encode_basestring_ascii, None, ":", ",",
        False, False, False,
    )  # fmt: skip
except TypeError:  # another signature: fall back to json.dumps
    _iterencode = None
_scan_once = json.JSONDecoder(
    parse_constant=_reject_constant, object_pairs_hook=_unique_keys
).scan_once


def dump_header(header: dict[str, Any]) -> bytes:
    """Serialize a JSON frame (compact ASCII, no NaN/Infinity literals)."""
    if _iterencode is None:
        text = _json_dumps(header, allow_nan=False, separators=(",", ":"))
    else:
        text = "".join(_iterencode(header, 0))
    return text.encode("ascii")


def json_problem(raw: bytes, max_values: int = MAX_JSON_VALUES, *, depth: bool = True
                 ) -> str | None:
    """Why the JSON text ``raw`` is too big to parse (too many values, or with ``depth`` nested
    deeper than MAX_JSON_DEPTH), or None. A linear scan of the bytes, without parsing: strings
    are blanked out, then values are counted by their separators and brackets by a running sum.
    """
    bare = _blank_strings(b"0", raw)
    values = bare.count(b",") + bare.count(b":") + 1
    if values > max_values:
        return f"{values} JSON values (the limit is {max_values})"
    if depth and bare.count(b"[") + bare.count(b"{") > MAX_JSON_DEPTH:
        codes = _np_frombuffer(bare, _uint8)
        steps = (codes == 91).view(_int8) + (codes == 123).view(_int8)
        steps -= (codes == 93).view(_int8) + (codes == 125).view(_int8)
        if int(_max_reduce(steps.cumsum(dtype=_int32))) > MAX_JSON_DEPTH:
            return f"JSON nested more than {MAX_JSON_DEPTH} levels deep"
    return None


def load_header(raw: bytes) -> dict[str, Any]:
    """Parse a JSON frame strictly: compact ASCII, no constants, no duplicate keys, an object.

    Raises TooLarge, before parsing, for a frame with too many values or nested too deeply."""
    problem = json_problem(raw)
    if problem is not None:
        raise TooLarge(problem)
    try:
        text = raw.decode("ascii")
        obj, end = _scan_once(text, 0)
    except (UnicodeDecodeError, StopIteration, ValueError, RecursionError):
        raise ProtocolError("malformed JSON frame") from None
    if end != len(text) or type(obj) is not dict:
        raise ProtocolError("JSON frame is not one object")
    return _valid_text(raw, obj)


#: A JSON escape of a surrogate: only then can a parsed frame hold a lone one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _valid_text(raw: bytes, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with every string (dict keys too) valid text: a lone surrogate (``"\\ud800"``,
    which learner code can put in a message, a name or a key) becomes a visible escape
    (grader.text.clean). Frames without a surrogate escape, nearly all, are returned as they are.
    """
    if _SURROGATE_ESCAPE.search(raw) is None:
        return obj
    from grader.text import clean

    def fix(value: Any) -> Any:
        if type(value) is str:
            return clean(value)
        if type(value) is list:
            return [fix(item) for item in value]
        if type(value) is dict:
            return {clean(key): fix(item) for key, item in value.items()}
        return value

    try:
        return fix(obj)
    except RecursionError:
        raise ProtocolError("malformed JSON frame") from None


class Channel:
    """Messages over a pair of pipes.

    With ``deadline=None`` every operation blocks (the child). With a deadline (the parent), waits
    use poll() and raise DeadlineExceeded; the write end should then be non-blocking. ``watch_fd``
    (a pidfd of the other process) makes waits raise ChannelClosed as soon as that process exits.
    ``trusted`` is kept for callers; both directions read arrays the same bounded way.
    """

    def __init__(
        self, read_fd: int, write_fd: int, watch_fd: int | None = None, *, trusted: bool = False
    ) -> None:
        self._rfd, self._wfd, self._watch = read_fd, write_fd, watch_fd
        self._trusted = trusted
        self._buf = bytearray()
        self._rpoll, self._wpoll = _new_poll(), _new_poll()
        self._rpoll.register(read_fd, _POLLIN)
        self._wpoll.register(write_fd, _POLLOUT)
        if watch_fd is not None:
            self._rpoll.register(watch_fd, _POLLIN)
            self._wpoll.register(watch_fd, _POLLIN)

    def send(
        self,
        header: dict[str, Any],
        arrays: list[np.ndarray],
        deadline: float | None = None,
        *,
        max_bytes: int | None = None,
        max_header: int | None = None,
    ) -> None:
        """Send ``header`` (plus ``"frames": len(arrays)``) and the arrays.

        Raises Unencodable, before writing anything, if the JSON frame is larger than
        ``max_header`` (or holds more values or nesting than the receiver accepts), or the whole
        message is larger than ``max_bytes`` (or holds more than MAX_ELEMENTS array elements):
        the bounds Channel.recv applies, checked here so that the sender can say what happened.
        """
        raw = dump_header({**header, "frames": len(arrays)})
        if max_header is not None:
            if len(raw) > max_header:
                raise Unencodable(f"{len(raw)} bytes of JSON (the limit is {max_header})")
            problem = json_problem(raw)
            if problem is not None:
                raise Unencodable(problem)
        if max_bytes is not None:
            elements = sum(a.size for a in arrays)
            if elements > MAX_ELEMENTS:
                raise Unencodable(
                    f"arrays of {elements} elements in all (the limit is {MAX_ELEMENTS})"
                )
        chunks: list[bytes | memoryview] = [_LEN.pack(len(raw)), raw]
        for a in arrays:
            chunks.extend(npy_frame(a))
        total = sum(len(c) if type(c) is bytes else c.nbytes for c in chunks)
        if max_bytes is not None and total > max_bytes:
            raise Unencodable(f"{total} bytes (the limit is {max_bytes})")
        if total < _JOIN_BELOW:
            chunks = [b"".join(chunks)]
        for chunk in chunks:
            self._write(memoryview(chunk), deadline)

    def recv(
        self,
        deadline: float | None = None,
        *,
        expect_id: int | None = None,
        max_bytes: int = 1 << 62,
        max_header: int = 1 << 62,
        max_elements: int = MAX_ELEMENTS,
    ) -> tuple[dict[str, Any], list[np.ndarray]]:
        """Receive one message: its JSON object and its arrays.

        Raises TooLarge when the JSON frame is larger than ``max_header`` or holds too many
        values or too deep a nesting (checked before parsing), the message is larger than
        ``max_bytes`` or its arrays hold more than ``max_elements`` elements (each checked from
        a length or header, before the data is read). Raises ProtocolError when the JSON is
        malformed or its ``"id"`` is not ``expect_id``. Each array's data is read straight into
        the array, so a message costs about its own size in memory.
        """
        (size,) = _LEN.unpack(self._take(8, deadline))
        if size > min(max_header, max_bytes):
            raise TooLarge(f"{size} bytes of JSON (the limit is {min(max_header, max_bytes)})")
        raw = self._take(size, deadline)
        header = load_header(raw)
        rid = header.get("id")
        if expect_id is not None and (type(rid) is not int or rid != expect_id):
            raise ProtocolError("reply to a different request")
        count = header.get("frames")
        if type(count) is not int or count < 0:
            raise ProtocolError("bad frame count")
        if count > min(MAX_JSON_VALUES, max_bytes // 8):
            raise TooLarge(f"{count} arrays (the limit is {min(MAX_JSON_VALUES, max_bytes // 8)})")
        total, elements = 8 + size, 0
        arrays = []
        for _ in range(count):
            (size,) = _LEN.unpack(self._take(8, deadline))
            total += 8 + size
            if total > max_bytes:
                raise TooLarge(f"at least {total} bytes (the limit is {max_bytes})")
            first = self._take(min(size, 10), deadline)
            prefix_size = _npy_prefix_size(first)
            if prefix_size > size:
                raise ProtocolError("bad .npy header")
            dtype, shape, n = npy_header(first + self._take(prefix_size - 10, deadline))
            elements += n
            if elements > max_elements:
                raise TooLarge(f"arrays of {elements} elements (the limit is {max_elements})")
            if size - prefix_size != n * dtype.itemsize:
                raise ProtocolError("array frame size does not match its header")
            array = _np_empty(n, dtype)
            if n:
                self._take_into(memoryview(array.view(_uint8)), deadline)
            arrays.append(array.reshape(shape))
        return header, arrays

    def _wait(self, poller: Any, fd: int, deadline: float | None) -> None:
        while True:
            timeout = None
            if deadline is not None:
                remaining = deadline - _monotonic()
                if remaining <= 0:
                    raise DeadlineExceeded
                timeout = math.ceil(remaining * 1000)
            ready = {f for f, _ in poller.poll(timeout)}
            if fd in ready:
                return
            if self._watch in ready:
                raise ChannelClosed("the other process exited")

    def _write(self, view: memoryview, deadline: float | None) -> None:
        view = view.cast("B")
        pos = 0
        while pos < len(view):
            try:
                pos += _os_write(self._wfd, view[pos:])
            except BlockingIOError:
                self._wait(self._wpoll, self._wfd, deadline)
            except (BrokenPipeError, ConnectionResetError):
                raise ChannelClosed("the other side closed the channel") from None

    def _take_into(self, view: memoryview, deadline: float | None) -> None:
        """Fill ``view`` with the next ``len(view)`` bytes, reading straight into it."""
        buf = self._buf
        pos = min(len(buf), len(view))
        if pos:
            view[:pos] = buf[:pos]
            del buf[:pos]
        while pos < len(view):
            if deadline is not None:
                self._wait(self._rpoll, self._rfd, deadline)
            got = _os_readv(self._rfd, [view[pos:]])
            if not got:
                raise ChannelClosed("the other side closed the channel")
            pos += got

    def _take(self, n: int, deadline: float | None) -> bytes:
        buf = self._buf
        while len(buf) < n:
            if deadline is not None:
                self._wait(self._rpoll, self._rfd, deadline)
            data = _os_read(self._rfd, min(max(n - len(buf), 65536), _READ_CHUNK))
            if not data:
                raise ChannelClosed("the other side closed the channel")
            buf += data
        with memoryview(buf) as view:
            out = bytes(view[:n])
        del buf[:n]
        return out
