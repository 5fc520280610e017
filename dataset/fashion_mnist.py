"""Fashion-MNIST, downloaded once from its official locations, loaded as MNIST is.

    from dataset.fashion_mnist import load_fashion_mnist, class_names
    (x_train, t_train), (x_test, t_test) = load_fashion_mnist(normalize=True, flatten=True)

Zalando Research's Fashion-MNIST (MIT license) has the shapes and the IDX format of MNIST: 60000
training and 10000 test images of clothing, 28x28 grey pixels, labels 0..9 named in
:data:`class_names`. Its four .gz files are not shipped with the repository: on first use each
missing one is downloaded from the official locations (:data:`OFFICIAL_URLS`, tried in turn; set
``$BACKPROP_LAB_FASHION_URL`` to a comma-separated list of base URLs to use others) and checked
against its published MD5 (:data:`MD5`). A download goes to a temporary file that is renamed only
once its checksum is right, so a corrupt or half-finished download is never kept.

Where the files go: ``<datasets>/fashion-mnist/`` (``<datasets>`` as for MNIST:
``$BACKPROP_LAB_DATASETS``, else the repository's ``datasets/``) when that folder can be written,
else ``$XDG_CACHE_HOME/backprop-lab/fashion-mnist`` (default
``~/.cache/backprop-lab/fashion-mnist``).
A file found in either folder is used without any download, so on a machine that is offline the
four files can be placed there by hand. Decoded arrays are cached in a ``cache/`` folder beside the
files, as for MNIST. Every load checks the MD5 of the four files (about 0.1 s).

Errors raise :class:`dataset.mnist.DatasetError` with a one-line message naming the file and what
to do, e.g. when offline: ``could not download train-images-idx3-ubyte.gz (...); place the four
files by hand in <folder> (from <official location>)``. ``python -m dataset.fashion_mnist``
downloads the four files ahead of time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from dataset.mnist import (
    DatasetError,
    _decode,
    _one_line,
    _read_cache,
    _show,
    _write_cache,
    book_layout,
    datasets_dir,
    key_file,
    user_cache_dir,
)

__all__ = ["DatasetError", "class_names", "download", "load_data", "load_fashion_mnist"]

#: Environment variable with comma-separated base URLs to download from instead of the official.
URL_ENV_VAR = "BACKPROP_LAB_FASHION_URL"

#: The official download locations (either serves the same four files), tried in this order.
OFFICIAL_URLS = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)

#: The published MD5 of each .gz file. A file whose checksum differs is refused.
MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}

#: The name of each class, by label (as in Keras' and TensorFlow's tutorials).
class_names = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

#: Seconds a connection or a read may wait for the server before the download is given up.
TIMEOUT = 30.0

#: The most bytes accepted for one file (the largest official one has about 26 MB).
MAX_BYTES = 64 * 2**20

_FOLDER = "fashion-mnist"
_CHUNK = 2**20
_KEY_CHARS = 16  # hex digits of the .gz's MD5 in a cache file's name


def fashion_dir() -> Path:
    """``<datasets>/fashion-mnist``: where the files go when that folder can be written."""
    return datasets_dir() / _FOLDER


def base_urls() -> list[str]:
    """The base URLs to download from, in order: ``$BACKPROP_LAB_FASHION_URL`` if set, else
    :data:`OFFICIAL_URLS`."""
    value = os.environ.get(URL_ENV_VAR, "")
    urls = [url.strip() for url in value.split(",") if url.strip()]
    return urls or list(OFFICIAL_URLS)


def load_fashion_mnist(
    normalize: bool = True, flatten: bool = True, one_hot_label: bool = False
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST with the shapes of the book's ``load_mnist``, downloading it if needed.

    Inputs:
    - normalize: if True, pixels are float32 in [0, 1] (divided by 255); else uint8 in 0..255.
    - flatten: if True, each image is a row of 784 pixels, shape (N, 784); else (N, 1, 28, 28).
    - one_hot_label: if True, labels are one-hot rows of shape (N, 10) (float64 0.0/1.0); else
      uint8 class numbers 0..9 of shape (N,) (their names: ``class_names[label]``).

    Returns ``((x_train, t_train), (x_test, t_test))`` with N = 60000 for train and 10000 for
    test. Every call returns new arrays, which the caller may modify.
    Raises DatasetError when a file cannot be downloaded or is corrupt.
    """
    return book_layout(load_data(), normalize, flatten, one_hot_label)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST as ``keras.datasets.fashion_mnist.load_data()`` returns it.

    Returns ``((x_train, y_train), (x_test, y_test))``, all uint8: x_train of shape
    (60000, 28, 28) with pixels 0..255, y_train of shape (60000,) with classes 0..9, x_test of
    shape (10000, 28, 28), y_test of shape (10000,). Every call returns new arrays.
    Raises DatasetError when a file cannot be downloaded or is corrupt.
    """
    paths = {key: _fetch(name) for key, name in key_file.items()}
    arrays = {}
    for key, name in key_file.items():
        path = paths[key]
        raw, digest = _read_verified(path)
        kind = "images" if key.endswith("img") else "labels"
        cache_name = f"{name.removesuffix('.gz')}.{digest[:_KEY_CHARS]}.npy"
        caches = _cache_dirs(path.parent)
        array, _ = _read_cache(caches, cache_name, kind, read_only=False)
        if array is None:
            array = _decode(path, raw, kind, hint=_redo_hint(path))
            _write_cache(caches, cache_name, array)
        arrays[key] = array
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_img"], arrays[f"{split}_label"]
        if len(images) != len(labels):
            raise DatasetError(
                f"{key_file[split + '_img']}: {len(images)} images but "
                f"{key_file[split + '_label']} has {len(labels)} labels; "
                f"delete both to download them again"
            )
    return (
        (arrays["train_img"], arrays["train_label"]),
        (arrays["test_img"], arrays["test_label"]),
    )


def download() -> list[Path]:
    """Download whichever of the four files are missing, and check all four.

    Returns the paths of the four files. Raises DatasetError as :func:`load_data` does.
    """
    paths = [_fetch(name) for name in key_file.values()]
    for path in paths:
        _read_verified(path)
    return paths


# ---------------------------------------------------------------------------------------------
# Finding, downloading and checking the files


def _folders() -> list[Path]:
    """Where the files may be, in order of preference: ``<datasets>/fashion-mnist``, then the
    user cache."""
    user = user_cache_dir(_FOLDER)
    return [fashion_dir()] if user is None else [fashion_dir(), user]


def _cache_dirs(folder: Path) -> list[Path]:
    """Where decoded arrays of the files in ``folder`` may be kept, in order of preference."""
    dirs = [folder / "cache"]
    for other in _folders():
        if other / "cache" not in dirs:
            dirs.append(other / "cache")
    return dirs


def _fetch(name: str) -> Path:
    """The path of the file ``name``: the one already there, else a fresh, verified download."""
    folders = _folders()
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    failures: list[str] = []
    mismatch: str | None = None
    target: Path | None = None
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
        except OSError:
            continue  # not writable: try the user cache
        target = folder
        try:
            with os.fdopen(fd, "wb") as file:
                for base in base_urls():
                    url = _join(base, name)
                    file.seek(0)
                    file.truncate()
                    try:
                        digest = _download(url, file)
                    except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts
                        failures.append(f"{url}: {_one_line(exc)}")
                        continue
                    if digest == _expected_md5(name):
                        file.flush()
                        os.fsync(file.fileno())
                        break
                    mismatch = (
                        f"{name} downloaded from {url}: checksum mismatch (MD5 {digest}, "
                        f"expected {_expected_md5(name)}); the file was not kept"
                    )
                    failures.append(f"{url}: checksum mismatch")
                else:
                    break  # every location failed: the temporary file is removed below
            os.chmod(temp, 0o644)
            os.replace(temp, folder / name)  # atomic: readers see no file or the whole one
            return folder / name
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)
    place = target if target is not None else folders[0]
    by_hand = f"place the four files by hand in {_show(place)} (from {OFFICIAL_URLS[0]})"
    if target is None:
        raise DatasetError(
            f"cannot download {name}: no folder can be written ({', '.join(map(_show, folders))}); "
            f"{by_hand}"
        )
    if mismatch is not None:
        raise DatasetError(f"{mismatch}; try again later, or {by_hand}")
    raise DatasetError(f"could not download {name} ({'; '.join(failures)}); {by_hand}")


def _download(url: str, file) -> str:
    """Copy what ``url`` serves into ``file``; the MD5 of what was copied."""
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        while chunk := response.read(_CHUNK):
            size += len(chunk)
            if size > MAX_BYTES:
                raise ValueError(f"larger than {MAX_BYTES} bytes")
            md5.update(chunk)
            file.write(chunk)
    return md5.hexdigest()


def _read_verified(path: Path) -> tuple[bytes, str]:
    """The bytes of ``path`` and their MD5, after checking it against :data:`MD5`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{_show(path)}: cannot be read ({_one_line(exc)})") from None
    digest = hashlib.md5(raw, usedforsecurity=False).hexdigest()
    expected = _expected_md5(path.name)
    if digest != expected:
        raise DatasetError(
            f"{_show(path)}: checksum mismatch (MD5 {digest}, expected {expected}: corrupt or not "
            f"the original file); {_redo_hint(path)}"
        )
    return raw, digest


def _expected_md5(name: str) -> str:
    return MD5[name].lower()


def _redo_hint(path: Path) -> str:
    return (
        f"delete it to download it again, or place the original by hand in "
        f"{_show(path.parent)} (from {OFFICIAL_URLS[0]})"
    )


def _join(base: str, name: str) -> str:
    return urllib.parse.urljoin(base if base.endswith("/") else base + "/", name)


if __name__ == "__main__":
    try:
        for found in download():
            print(found)
    except DatasetError as error:
        sys.exit(f"error: {error}")
