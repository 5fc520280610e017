"""The MNIST loader: the book's load_mnist, Keras' load_data, checksums, IDX decoding, the cache.

The real files are decoded once for this module, into a temporary data folder (links to the
repository's files, through BACKPROP_LAB_DATASETS) so that the repository's own cache is never
used nor touched; everything else runs on small synthetic IDX files written here.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dataset import mnist
from dataset.mnist import DatasetError, ensure_cache, load_data, load_mnist

REPO = Path(__file__).resolve().parents[1]
REAL = REPO / "datasets" / "mnist"
NAMES = mnist.key_file  # train_img, train_label, test_img, test_label -> file name

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MEAN_TRAIN_PIXEL = 33.318


# ---------------------------------------------------------------------------------------------
# Helpers: synthetic IDX files


def idx_gz(array: np.ndarray, magic: int | None = None, extra: bytes = b"") -> bytes:
    """A gzip-compressed IDX file holding the uint8 ``array`` (header, then the raw values)."""
    if magic is None:
        magic = 0x803 if array.ndim == 3 else 0x801
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes() + extra, mtime=0)


def synthetic_arrays(seed: int, n_train: int = 12, n_test: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train_img": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_label": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "test_img": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_label": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }


def write_files(folder: Path, files: dict[str, bytes], sums: bool = True) -> None:
    """Write ``files`` (name -> bytes) into ``folder`` and, if ``sums``, their SHA256SUMS."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    if sums:
        listed = {}
        if (folder / "SHA256SUMS").exists():
            for line in (folder / "SHA256SUMS").read_text().splitlines():
                digest, name = line.split()
                listed[name] = digest
        listed.update({name: hashlib.sha256(data).hexdigest() for name, data in files.items()})
        (folder / "SHA256SUMS").write_text(
            "".join(f"{digest}  {name}\n" for name, digest in sorted(listed.items()))
        )


def write_dataset(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    write_files(folder, {NAMES[key]: idx_gz(array) for key, array in arrays.items()})


def cache_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def expected_cache_name(folder: Path, key: str) -> str:
    digest = hashlib.sha256((folder / NAMES[key]).read_bytes()).hexdigest()
    return f"{NAMES[key].removesuffix('.gz')}.{digest[:16]}.npy"


def assert_one_line_error(error: pytest.ExceptionInfo, file_name: str, *phrases: str) -> None:
    message = str(error.value)
    assert isinstance(error.value, OSError)
    assert "\n" not in message, message
    assert file_name in message, message
    for phrase in phrases:
        assert phrase in message, message


def forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the .gz files were decoded again")

    monkeypatch.setattr(gzip, "open", refuse)
    monkeypatch.setattr(gzip, "decompress", refuse)
    monkeypatch.setattr(gzip, "GzipFile", refuse)


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    """A data folder with small synthetic MNIST files; the fallback cache under tmp_path too."""
    root = tmp_path / "datasets"
    arrays = synthetic_arrays(seed=0)
    write_dataset(root / "mnist", arrays)
    monkeypatch.setenv(mnist.ENV_VAR, str(root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return root / "mnist", arrays


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """(data folder, load_data()) for the real files, decoded once into a temporary cache."""
    root = tmp_path_factory.mktemp("real-datasets")
    (root / "mnist").mkdir()
    for path in REAL.iterdir():
        if path.is_file():
            (root / "mnist" / path.name).symlink_to(path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(mnist.ENV_VAR, str(root))
        patch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
        yield root / "mnist", load_data()


# ---------------------------------------------------------------------------------------------
# The real data set


def test_load_data_returns_what_keras_does(real):
    _, ((x_train, y_train), (x_test, y_test)) = real
    for array, shape in [
        (x_train, (60000, 28, 28)), (y_train, (60000,)), (x_test, (10000, 28, 28)),
        (y_test, (10000,)),
    ]:
        assert type(array) is np.ndarray
        assert array.dtype == np.uint8
        assert array.shape == shape
    assert x_train.min() == 0 and x_train.max() == 255
    assert set(np.unique(y_test)) == set(range(10))


def test_label_counts_and_mean_pixel_match_the_readme(real):
    _, ((x_train, y_train), (_, y_test)) = real
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert round(float(x_train.mean()), 3) == MEAN_TRAIN_PIXEL


def test_first_load_wrote_the_cache_named_by_checksums(real):
    folder, _ = real
    assert cache_files(folder / "cache") == sorted(
        expected_cache_name(folder, key) for key in NAMES
    )


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("one_hot_label", [True, False])
def test_load_mnist_flags(real, normalize, flatten, one_hot_label):
    _, ((raw_train, raw_labels), (raw_test, raw_test_labels)) = real
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=normalize, flatten=flatten, one_hot_label=one_hot_label
    )
    image_shape = (784,) if flatten else (1, 28, 28)
    assert x_train.shape == (60000, *image_shape) and x_test.shape == (10000, *image_shape)
    if normalize:
        assert x_train.dtype == x_test.dtype == np.float32
        assert x_train.min() == 0.0 and x_train.max() == 1.0
        np.testing.assert_array_equal(
            x_test.reshape(10000, 28, 28), raw_test.astype(np.float32) / np.float32(255)
        )
    else:
        assert x_train.dtype == x_test.dtype == np.uint8
        np.testing.assert_array_equal(x_test.reshape(10000, 28, 28), raw_test)
    sample = raw_train[::997]
    if normalize:
        sample = sample.astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(x_train.reshape(60000, 28, 28)[::997], sample)
    if one_hot_label:
        assert t_train.shape == (60000, 10) and t_test.shape == (10000, 10)
        assert t_train.dtype == np.float64
        assert set(np.unique(t_train)) == {0.0, 1.0}
        np.testing.assert_array_equal(t_train.sum(axis=1), 1.0)
        np.testing.assert_array_equal(t_train.argmax(axis=1), raw_labels)
        np.testing.assert_array_equal(t_test.argmax(axis=1), raw_test_labels)
    else:
        assert t_train.shape == (60000,) and t_test.shape == (10000,)
        assert t_train.dtype == t_test.dtype == np.uint8
        np.testing.assert_array_equal(t_train, raw_labels)
        np.testing.assert_array_equal(t_test, raw_test_labels)


def test_load_data_is_load_mnist_raw_reshaped(real):
    _, ((x_train, y_train), (x_test, y_test)) = real
    (bx_train, bt_train), (bx_test, bt_test) = load_mnist(normalize=False, flatten=False)
    np.testing.assert_array_equal(bx_train.reshape(60000, 28, 28), x_train)
    np.testing.assert_array_equal(bx_test.reshape(10000, 28, 28), x_test)
    np.testing.assert_array_equal(bt_train, y_train)
    np.testing.assert_array_equal(bt_test, y_test)


def test_second_load_reads_the_cache_not_the_gz_files(real, monkeypatch):
    _, ((x_train, y_train), (x_test, y_test)) = real
    forbid_decoding(monkeypatch)
    (cx_train, cy_train), (cx_test, cy_test) = load_data()
    assert type(cx_train) is np.ndarray and cx_train.dtype == np.uint8
    np.testing.assert_array_equal(cx_train, x_train)
    np.testing.assert_array_equal(cy_train, y_train)
    np.testing.assert_array_equal(cx_test, x_test)
    np.testing.assert_array_equal(cy_test, y_test)


def test_cached_arrays_are_the_callers_own(real):
    folder, ((x_train, _), _) = real
    cache = folder / "cache" / expected_cache_name(folder, "train_img")
    before = cache.read_bytes()
    (first, labels), _ = load_data()
    assert first.flags.writeable and labels.flags.writeable
    first[:] = 7
    labels[:] = 3
    (second, second_labels), _ = load_data()
    np.testing.assert_array_equal(second, x_train)
    assert np.bincount(second_labels).tolist() == TRAIN_COUNTS
    assert cache.read_bytes() == before


def test_book_code_runs_unchanged(real, tmp_path):
    folder, _ = real
    # The book's ch03/mnist_show.py, run from a chapter folder as the book does.
    script = textwrap.dedent("""
        import sys, os
        sys.path.append(os.pardir)
        import numpy as np
        from dataset.mnist import load_mnist

        (x_train, t_train), (x_test, t_test) = load_mnist(flatten=True, normalize=False)
        img = x_train[0]
        label = t_train[0]
        print(label)
        print(img.shape)
        img = img.reshape(28, 28)
        print(img.shape)
    """)
    chapter = tmp_path / "ch03"
    chapter.mkdir()
    env = {**os.environ, mnist.ENV_VAR: str(folder.parent)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=chapter, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["5", "(784,)", "(28, 28)"]


# ---------------------------------------------------------------------------------------------
# Where the data and the cache live


def test_data_folder_is_the_repository_s_unless_the_variable_is_set(monkeypatch, tmp_path):
    monkeypatch.delenv(mnist.ENV_VAR, raising=False)
    assert mnist.datasets_dir() == REPO / "datasets"
    assert mnist.mnist_dir() == REAL
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path))
    assert mnist.mnist_dir() == tmp_path / "mnist"


def test_synthetic_files_decode_and_cache(synthetic):
    folder, arrays = synthetic
    (x_train, y_train), (x_test, y_test) = load_data()
    np.testing.assert_array_equal(x_train, arrays["train_img"])
    np.testing.assert_array_equal(y_train, arrays["train_label"])
    np.testing.assert_array_equal(x_test, arrays["test_img"])
    np.testing.assert_array_equal(y_test, arrays["test_label"])
    assert x_train.flags.writeable
    assert cache_files(folder / "cache") == sorted(
        expected_cache_name(folder, key) for key in NAMES
    )
    (bx_train, bt_train), _ = load_mnist(one_hot_label=True)
    assert bx_train.shape == (12, 784) and bt_train.shape == (12, 10)
    np.testing.assert_array_equal(bt_train.argmax(axis=1), arrays["train_label"])


def test_ensure_cache_warms_the_cache(synthetic, monkeypatch):
    folder, arrays = synthetic
    assert ensure_cache() == folder / "cache"
    assert len(cache_files(folder / "cache")) == 4
    assert ensure_cache() == folder / "cache"
    forbid_decoding(monkeypatch)
    (x_train, _), _ = load_data()
    np.testing.assert_array_equal(x_train, arrays["train_img"])


def test_cache_is_rebuilt_when_a_gz_changes(synthetic, monkeypatch):
    folder, _ = synthetic
    load_data()
    old_name = expected_cache_name(folder, "train_img")
    new = synthetic_arrays(seed=1)
    write_files(folder, {NAMES["train_img"]: idx_gz(new["train_img"])})
    (x_train, y_train), _ = load_data()
    np.testing.assert_array_equal(x_train, new["train_img"])
    files = cache_files(folder / "cache")
    assert expected_cache_name(folder, "train_img") in files
    assert old_name not in files
    assert len(files) == 4


def test_a_changed_gz_is_reported_even_when_cached(synthetic):
    folder, arrays = synthetic
    load_data()
    other = synthetic_arrays(seed=1)
    write_files(folder, {NAMES["test_label"]: idx_gz(other["test_label"])}, sums=False)
    with pytest.raises(DatasetError) as error:
        load_data()
    assert_one_line_error(error, NAMES["test_label"], "checksum mismatch", "restore")


def test_damaged_cache_file_is_rewritten(synthetic):
    folder, arrays = synthetic
    load_data()
    cache = folder / "cache" / expected_cache_name(folder, "train_img")
    cache.write_bytes(cache.read_bytes()[:200])
    (x_train, _), _ = load_data()
    np.testing.assert_array_equal(x_train, arrays["train_img"])
    np.testing.assert_array_equal(np.load(cache, allow_pickle=False), arrays["train_img"])


def test_unwritable_cache_folder_falls_back_to_the_user_cache(synthetic, tmp_path, monkeypatch):
    folder, arrays = synthetic
    (folder / "cache").write_text("a file where the cache folder should be")
    (x_train, _), _ = load_data()
    np.testing.assert_array_equal(x_train, arrays["train_img"])
    user_cache = tmp_path / "xdg" / "backprop-lab" / "mnist"
    assert len(cache_files(user_cache)) == 4
    assert ensure_cache() == user_cache
    # Without XDG_CACHE_HOME, the user cache is ~/.cache.
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ensure_cache() == tmp_path / "home" / ".cache" / "backprop-lab" / "mnist"
    forbid_decoding(monkeypatch)
    (x_train, _), _ = load_data()
    np.testing.assert_array_equal(x_train, arrays["train_img"])


def test_nothing_writable_decodes_in_memory(synthetic, tmp_path):
    folder, arrays = synthetic
    (folder / "cache").write_text("not a folder")
    (tmp_path / "xdg").write_text("not a folder either")
    for _ in range(2):
        (x_train, y_train), (x_test, _) = load_data()
        np.testing.assert_array_equal(x_train, arrays["train_img"])
        np.testing.assert_array_equal(y_train, arrays["train_label"])
        np.testing.assert_array_equal(x_test, arrays["test_img"])
    assert ensure_cache() == folder
    assert cache_files(folder) == sorted([*NAMES.values(), "SHA256SUMS", "cache"])


def test_cache_files_appear_whole(synthetic, monkeypatch):
    """Each cache file is written under a temporary name in its folder, then renamed."""
    folder, _ = synthetic
    real_save = np.save
    written = []

    def watched_save(file, array, **kwargs):
        present = cache_files(folder / "cache")
        temporary = [name for name in present if name.startswith(".") and name.endswith(".tmp")]
        assert len(temporary) == 1, present
        assert len(present) == len(written) + 1, present  # the earlier files, whole, and this one
        written.append(temporary[0])
        real_save(file, array, **kwargs)

    monkeypatch.setattr(mnist.np, "save", watched_save)
    load_data()
    assert len(written) == 4
    assert len(cache_files(folder / "cache")) == 4  # the temporary files were renamed


def test_failed_cache_write_leaves_no_partial_file(synthetic, monkeypatch, tmp_path):
    folder, arrays = synthetic

    def disk_full(file, array, **kwargs):
        file.write(b"\x93NUMPY half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mnist.np, "save", disk_full)
    (x_train, _), _ = load_data()
    np.testing.assert_array_equal(x_train, arrays["train_img"])
    assert cache_files(folder / "cache") == []
    assert cache_files(tmp_path / "xdg" / "backprop-lab" / "mnist") == []


# ---------------------------------------------------------------------------------------------
# Missing and corrupt files


def test_missing_file(synthetic):
    folder, _ = synthetic
    (folder / NAMES["train_label"]).unlink()
    with pytest.raises(DatasetError) as error:
        load_mnist()
    assert_one_line_error(error, NAMES["train_label"], "missing", "restore")


def test_missing_file_is_reported_even_when_cached(synthetic):
    folder, _ = synthetic
    ensure_cache()
    (folder / NAMES["test_img"]).unlink()
    with pytest.raises(DatasetError) as error:
        load_data()
    assert_one_line_error(error, NAMES["test_img"], "missing")


def test_missing_checksums(synthetic):
    folder, _ = synthetic
    (folder / "SHA256SUMS").unlink()
    with pytest.raises(DatasetError) as error:
        ensure_cache()
    assert_one_line_error(error, "SHA256SUMS", "missing")


def test_checksum_not_listed(synthetic):
    folder, _ = synthetic
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    (folder / "SHA256SUMS").write_text(
        "".join(line + "\n" for line in lines if NAMES["test_img"] not in line)
    )
    with pytest.raises(DatasetError) as error:
        load_data()
    assert_one_line_error(error, "SHA256SUMS", NAMES["test_img"], "no checksum")


def test_missing_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(DatasetError) as error:
        load_data()
    assert_one_line_error(error, "nowhere", "no such folder", mnist.ENV_VAR)


def test_corrupt_file_fails_its_checksum(synthetic):
    folder, _ = synthetic
    path = folder / NAMES["train_img"]
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(DatasetError) as error:
        load_mnist()
    assert_one_line_error(
        error, NAMES["train_img"], "checksum mismatch (corrupt or not the original file)",
        "restore it from the course repository",
    )


# Files whose SHA256SUMS entry matches (so only the decoding can catch them).
IMAGES = np.zeros((3, 28, 28), dtype=np.uint8)
BAD_FILES = {
    "labels given as images": (
        "train_img", idx_gz(np.zeros(12, dtype=np.uint8)), "magic number 0x00000801"
    ),
    "bad magic": ("test_label", idx_gz(np.zeros(5, np.uint8), magic=0x0803), "not an IDX labels"),
    "not gzip": ("train_label", b"these are not gzip-compressed bytes", "not a valid gzip file"),
    "truncated gzip": ("train_img", idx_gz(IMAGES)[:-30], "not a valid gzip file"),
    "truncated data": (
        "test_img",
        gzip.compress(np.array([0x803, 5, 28, 28], ">u4").tobytes() + bytes(784 * 4), mtime=0),
        "truncated (3136 bytes of data, the header announces 3920)",
    ),
    "truncated header": ("test_label", gzip.compress(b"\x00\x00\x08", mtime=0), "truncated"),
    "trailing bytes": ("train_label", idx_gz(np.zeros(12, np.uint8), extra=b"xx"), "longer"),
    "wrong image size": (
        "test_img", idx_gz(np.zeros((5, 27, 27), np.uint8)), "27x27 pixels, expected 28x28"
    ),
    "label out of range": ("test_label", idx_gz(np.full(5, 10, np.uint8)), "outside 0..9"),
    "counts differ": ("train_label", idx_gz(np.zeros(11, np.uint8)), "12 images but"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_content(synthetic, case):
    folder, _ = synthetic
    key, content, phrase = BAD_FILES[case]
    write_files(folder, {NAMES[key]: content})
    with pytest.raises(DatasetError) as error:
        load_data()
    named = NAMES["train_img"] if case == "counts differ" else NAMES[key]
    assert_one_line_error(error, named, phrase, "restore")
    if case != "counts differ":  # a file that does not decode is not cached
        stem = NAMES[key].removesuffix(".gz")
        assert not [name for name in cache_files(folder / "cache") if name.startswith(stem)]
