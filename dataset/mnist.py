"""MNIST from the four IDX files shipped in ``<datasets>/mnist/``, loaded as the book and Keras do.

    from dataset.mnist import load_mnist
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True)

``<datasets>`` is ``$BACKPROP_LAB_DATASETS`` when that is set, else the repository's ``datasets/``
folder (found from this file's location). Nothing is ever downloaded.

On first use each .gz file is checked against ``<datasets>/mnist/SHA256SUMS`` and decoded, and the
decoded arrays are kept as ``.npy`` files in ``<datasets>/mnist/cache/``; when that folder is not
writable, in ``$XDG_CACHE_HOME/backprop-lab/mnist`` (default ``~/.cache/backprop-lab/mnist``);
when neither is, nothing is kept and every process decodes again (about a second). A cache file is
named after the checksum of the .gz it comes from, so a changed .gz is decoded again, and it is
written to a temporary file then renamed, so a concurrent reader never sees half a file. Every load
still hashes the .gz files (about 20 ms), so a file corrupted after caching is reported rather
than served from the cache.

A missing or corrupt file raises :class:`DatasetError` with a one-line message naming the file.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

__all__ = ["DatasetError", "ensure_cache", "load_data", "load_mnist"]

#: Environment variable naming the data folder (the one that holds ``mnist/``).
ENV_VAR = "BACKPROP_LAB_DATASETS"

#: The book's names for the four files ("Deep Learning from Scratch", dataset/mnist.py).
key_file = {
    "train_img": "train-images-idx3-ubyte.gz",
    "train_label": "train-labels-idx1-ubyte.gz",
    "test_img": "t10k-images-idx3-ubyte.gz",
    "test_label": "t10k-labels-idx1-ubyte.gz",
}
img_dim = (1, 28, 28)
img_size = 784

_SUMS = "SHA256SUMS"
_RESTORE = "restore it from the course repository"
_KEY_CHARS = 16  # hex digits of the .gz's SHA-256 in a cache file's name
_STALE_TEMP_SECONDS = 3600  # temporary files older than this were left by a killed writer

# The IDX format (yann.lecun.com/exdb/mnist) is a big-endian header (a magic number, then one
# 32-bit size per dimension: 16 bytes for images, 8 for labels) followed by the raw uint8 values.
# Reading it takes a few lines of NumPy, so no extra package (python-mnist, idx2numpy) is needed.
_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (count, rows, columns)
_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (count)


class DatasetError(OSError):
    """A data-set file is missing, unreadable, corrupt or not the original one.

    A subclass of OSError (as FileNotFoundError is), so ``except OSError`` catches it too. Its
    message is one line: the file, what is wrong with it, and what to do.
    """


def datasets_dir() -> Path:
    """The data folder: ``$BACKPROP_LAB_DATASETS`` if set, else ``<repository>/datasets``."""
    value = os.environ.get(ENV_VAR)
    if value:
        return Path(value).expanduser()
    return Path(__file__).resolve().parents[1] / "datasets"


def mnist_dir() -> Path:
    """The folder that holds the four MNIST .gz files and their SHA256SUMS."""
    return datasets_dir() / "mnist"


def load_mnist(
    normalize: bool = True, flatten: bool = True, one_hot_label: bool = False
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as the book's ``dataset.mnist.load_mnist`` does.

    Inputs:
    - normalize: if True, pixels are float32 in [0, 1] (divided by 255); else uint8 in 0..255.
    - flatten: if True, each image is a row of 784 pixels, shape (N, 784); else (N, 1, 28, 28).
    - one_hot_label: if True, labels are one-hot rows of shape (N, 10) (float64 0.0/1.0, as in
      the book); else uint8 class numbers 0..9 of shape (N,).

    Returns ``((x_train, t_train), (x_test, t_test))`` with N = 60000 for train and 10000 for
    test. Every call returns new arrays, which the caller may modify.
    Raises DatasetError when a file is missing or corrupt.
    """
    return book_layout(load_data(), normalize, flatten, one_hot_label)


def book_layout(data: tuple, normalize: bool, flatten: bool, one_hot_label: bool) -> tuple:
    """Keras-layout ``((x_train, y_train), (x_test, y_test))`` (uint8) in the book's layout,
    as ``load_mnist`` describes it (shared by the MNIST and Fashion-MNIST loaders)."""
    (x_train, t_train), (x_test, t_test) = data
    return (
        (_images(x_train, normalize, flatten), _labels(t_train, one_hot_label)),
        (_images(x_test, normalize, flatten), _labels(t_test, one_hot_label)),
    )


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as ``keras.datasets.mnist.load_data()`` returns it, without downloading.

    Returns ``((x_train, y_train), (x_test, y_test))``, all uint8: x_train of shape
    (60000, 28, 28) with pixels 0..255, y_train of shape (60000,) with classes 0..9, x_test of
    shape (10000, 28, 28), y_test of shape (10000,). Every call returns new arrays.
    Raises DatasetError when a file is missing or corrupt.
    """
    arrays, _ = _prepare(keep_arrays=True)
    return (
        (arrays["train_img"], arrays["train_label"]),
        (arrays["test_img"], arrays["test_label"]),
    )


def ensure_cache() -> Path:
    """Check the four files and decode them into the cache unless they are there already.

    For the grader, to pay for decoding (about a second) before learner code runs. Returns the
    folder that holds the four cache files; when no folder is writable, nothing can be cached and
    it returns the data folder (``<datasets>/mnist``) instead. Raises DatasetError when a file is
    missing or corrupt.
    """
    _, places = _prepare(keep_arrays=False)
    folders = set(places.values())
    if len(folders) == 1 and None not in folders:
        return folders.pop()
    return mnist_dir()


def _images(x: np.ndarray, normalize: bool, flatten: bool) -> np.ndarray:
    x = x.reshape(-1, img_size) if flatten else x.reshape(-1, *img_dim)
    if normalize:
        x = x.astype(np.float32)
        x /= 255.0
    return x


def _labels(t: np.ndarray, one_hot: bool) -> np.ndarray:
    if not one_hot:
        return t
    one_hot_rows = np.zeros((t.size, 10))
    one_hot_rows[np.arange(t.size), t] = 1
    return one_hot_rows


# ---------------------------------------------------------------------------------------------
# Checking, decoding and caching the files


def _prepare(keep_arrays: bool) -> tuple[dict[str, np.ndarray], dict[str, Path | None]]:
    """Verify the four files and make sure each one is decoded.

    Returns the arrays by key of ``key_file`` (read-only when ``keep_arrays`` is False, else
    writable and the caller's own), and the cache folder of each (None where none is writable).
    """
    folder = mnist_dir()
    if not folder.is_dir():
        hint = _RESTORE
        if os.environ.get(ENV_VAR):
            hint = f"set {ENV_VAR} to a folder that holds mnist/, or unset it"
        raise DatasetError(f"{_show(folder)}: no such folder; {hint}")
    sums = _read_sums(folder / _SUMS)
    caches = _cache_dirs(folder)
    arrays: dict[str, np.ndarray] = {}
    places: dict[str, Path | None] = {}
    for key, name in key_file.items():
        path = folder / name
        raw, digest = _read_verified(path, sums)
        kind = "images" if key.endswith("img") else "labels"
        cache_name = f"{name.removesuffix('.gz')}.{digest[:_KEY_CHARS]}.npy"
        array, place = _read_cache(caches, cache_name, kind, read_only=not keep_arrays)
        if array is None:
            array = _decode(path, raw, kind)
            place = _write_cache(caches, cache_name, array)
        del raw
        arrays[key] = array
        places[key] = place
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_img"], arrays[f"{split}_label"]
        if len(images) != len(labels):
            raise DatasetError(
                f"{_show(folder / key_file[split + '_img'])}: {len(images)} images but "
                f"{key_file[split + '_label']} has {len(labels)} labels; {_RESTORE}"
            )
    return arrays, places


def _read_sums(path: Path) -> dict[str, str]:
    """File name -> lower-case SHA-256, from a ``sha256sum`` listing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{_show(path)}: missing; {_RESTORE}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(_unreadable(path, exc)) from None
    sums = {}
    for line in text.splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2:
            sums[parts[1].strip().lstrip("*")] = parts[0].lower()
    return sums


def _read_verified(path: Path, sums: dict[str, str]) -> tuple[bytes, str]:
    """The bytes of ``path`` and their SHA-256, after checking it against SHA256SUMS."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(
            f"{_show(path)}: missing (nothing is downloaded); {_RESTORE}"
        ) from None
    except OSError as exc:
        raise DatasetError(_unreadable(path, exc)) from None
    expected = sums.get(path.name)
    if expected is None:
        raise DatasetError(
            f"{_show(path.with_name(_SUMS))}: has no checksum for {path.name}; {_RESTORE}"
        )
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected:
        raise DatasetError(
            f"{_show(path)}: checksum mismatch (corrupt or not the original file); {_RESTORE}"
        )
    return raw, digest


def _decode(path: Path, raw: bytes, kind: str, hint: str = _RESTORE) -> np.ndarray:
    """The uint8 array in a gzip-compressed IDX file: (N, 28, 28) images or (N,) labels.

    ``hint`` ends each error message: what to do about a bad file.
    """
    try:
        data = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(
            f"{_show(path)}: not a valid gzip file ({_one_line(exc)}); {hint}"
        ) from None
    header, magic_expected = (16, _IMAGES_MAGIC) if kind == "images" else (8, _LABELS_MAGIC)
    if len(data) < header:
        raise DatasetError(
            f"{_show(path)}: truncated ({len(data)} bytes, shorter than the {header}-byte "
            f"IDX header); {hint}"
        )
    magic, *dims = (int(v) for v in np.frombuffer(data, ">u4", count=header // 4))
    if magic != magic_expected:
        raise DatasetError(
            f"{_show(path)}: not an IDX {kind} file (magic number 0x{magic:08x}, expected "
            f"0x{magic_expected:08x}); {hint}"
        )
    if kind == "images" and dims[1:] != [28, 28]:
        raise DatasetError(
            f"{_show(path)}: images are {dims[1]}x{dims[2]} pixels, expected 28x28; {hint}"
        )
    size, found = int(np.prod(dims)), len(data) - header
    if found != size:
        what = "truncated" if found < size else "longer than its header says"
        raise DatasetError(
            f"{_show(path)}: {what} ({found} bytes of data, the header announces {size}); {hint}"
        )
    array = np.frombuffer(data, np.uint8, offset=header).reshape(dims).copy()
    if kind == "labels" and array.size and array.max() > 9:
        raise DatasetError(f"{_show(path)}: labels outside 0..9 ({array.max()}); {hint}")
    return array


def _cache_dirs(folder: Path) -> list[Path]:
    """Where decoded arrays may be kept, in order of preference."""
    user = user_cache_dir("mnist")
    return [folder / "cache"] if user is None else [folder / "cache", user]


def user_cache_dir(name: str) -> Path | None:
    """``$XDG_CACHE_HOME/backprop-lab/<name>`` (default ``~/.cache/backprop-lab/<name>``), or
    None when there is no home folder to be found. The folder may not exist yet."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    try:
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    except RuntimeError:  # no home folder to be found
        return None
    return base / "backprop-lab" / name


def _valid(array: np.ndarray, kind: str) -> bool:
    if array.dtype != np.uint8:
        return False
    if kind == "images":
        return array.ndim == 3 and array.shape[1:] == (28, 28)
    return array.ndim == 1


def _read_cache(
    dirs: list[Path], name: str, kind: str, read_only: bool
) -> tuple[np.ndarray | None, Path | None]:
    """The cached array called ``name`` (a memory map of the file, read-only or copy-on-write)
    and its folder, or (None, None) when there is no usable one."""
    for folder in dirs:
        path = folder / name
        if not path.is_file():
            continue
        try:
            # Copy-on-write mapping: nothing is read until used, and the caller gets a writable
            # array of its own whose changes never reach the file (and cost memory only then).
            array = np.load(path, mmap_mode="r" if read_only else "c", allow_pickle=False)
        except (OSError, ValueError, EOFError):
            continue  # half-written by a killed process or damaged: written again below
        if _valid(array, kind):
            return np.asarray(array), folder
    return None, None


def _write_cache(dirs: list[Path], name: str, array: np.ndarray) -> Path | None:
    """Save ``array`` as ``name`` in the first writable folder of ``dirs``; that folder or None."""
    for folder in dirs:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        except OSError:
            continue
        try:
            with os.fdopen(fd, "wb") as file:
                np.save(file, array, allow_pickle=False)
            os.chmod(temp, 0o644)
            os.replace(temp, folder / name)  # atomic: readers see the old file or the new one
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            continue
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _remove_stale(folder, name)
        return folder
    return None


def _remove_stale(folder: Path, name: str) -> None:
    """Remove cache files of older versions of the same .gz, and abandoned temporary files."""
    stem = name.split(".", 1)[0]
    now = time.time()
    for path in folder.glob(f"{stem}.*.npy"):
        if path.name != name:
            with contextlib.suppress(OSError):
                path.unlink()
    for path in folder.glob(f".{stem}.*.tmp"):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > _STALE_TEMP_SECONDS:
                path.unlink()


def _show(path: Path) -> str:
    """``path`` relative to the working folder when it is inside it, else absolute."""
    absolute = Path(os.path.abspath(path))
    with contextlib.suppress(OSError, ValueError):
        return str(absolute.relative_to(os.getcwd()))
    return str(absolute)


def _unreadable(path: Path, exc: BaseException) -> str:
    return f"{_show(path)}: cannot be read ({_one_line(exc)}); {_RESTORE}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
