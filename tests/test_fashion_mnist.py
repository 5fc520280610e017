"""The Fashion-MNIST loader, offline: a real HTTP server on 127.0.0.1 serves small IDX files.

Every test points the loader at a temporary data folder and user cache, at a server of its own
(or at a closed port), and at the checksums of the small files it writes. No test touches the
network: a guard refuses any connection to another host than 127.0.0.1.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dataset import fashion_mnist as fm
from dataset import mnist
from dataset.mnist import DatasetError

NAMES = fm.key_file  # train_img, train_label, test_img, test_label -> file name
TIMEOUT = 3.0


def idx_gz(array: np.ndarray) -> bytes:
    """A gzip-compressed IDX file holding the uint8 ``array``."""
    magic = 0x803 if array.ndim == 3 else 0x801
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def synthetic_arrays(seed: int = 0, n_train: int = 7, n_test: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train_img": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_label": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "test_img": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_label": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }


ARRAYS = synthetic_arrays()
FILES = {NAMES[key]: idx_gz(array) for key, array in ARRAYS.items()}
SUMS = {name: hashlib.md5(data).hexdigest() for name, data in FILES.items()}


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


class Server:
    """A real ``http.server`` on 127.0.0.1 (ephemeral port) in a thread, serving ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                requests.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        handler = functools.partial(Handler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.timeout = TIMEOUT
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/data/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.thread.join(timeout=TIMEOUT)
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that is not to 127.0.0.1, and bypass any configured proxy."""
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        assert address[0] in ("127.0.0.1", "localhost"), f"network access to {address}"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    for scheme in ("http", "https", "all"):
        monkeypatch.delenv(f"{scheme}_proxy", raising=False)
        monkeypatch.delenv(f"{scheme.upper()}_PROXY", raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(<datasets>/fashion-mnist, the user cache's folder), both empty and not yet created."""
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(fm, "MD5", dict(SUMS))
    monkeypatch.setattr(fm, "TIMEOUT", TIMEOUT)
    monkeypatch.setenv(fm.URL_ENV_VAR, closed_port_url())
    return tmp_path / "data" / "fashion-mnist", tmp_path / "xdg" / "backprop-lab" / "fashion-mnist"


@pytest.fixture
def server(tmp_path: Path, folders, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A server of the four small files (under /data/), which the loader is pointed at."""
    served = tmp_path / "served" / "data"
    served.mkdir(parents=True)
    for name, data in FILES.items():
        (served / name).write_bytes(data)
    srv = Server(tmp_path / "served")
    try:
        monkeypatch.setenv(fm.URL_ENV_VAR, srv.url)
        yield srv
    finally:
        srv.stop()


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def assert_arrays(result) -> None:
    (x_train, y_train), (x_test, y_test) = result
    for got, key in ((x_train, "train_img"), (y_train, "train_label"), (x_test, "test_img"),
                     (y_test, "test_label")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, ARRAYS[key])


def one_line_error(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------------------------
# Constants


def test_class_names_and_official_locations(monkeypatch):
    assert fm.class_names == [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
    assert sorted(fm.MD5) == sorted(NAMES.values())
    assert all(len(digest) == 32 for digest in fm.MD5.values())
    monkeypatch.delenv(fm.URL_ENV_VAR, raising=False)
    assert fm.base_urls() == list(fm.OFFICIAL_URLS)
    assert len(fm.OFFICIAL_URLS) == 2 and all(u.endswith("/") for u in fm.OFFICIAL_URLS)
    monkeypatch.setenv(fm.URL_ENV_VAR, " http://127.0.0.1:1/a , http://127.0.0.1:2/b/,")
    assert fm.base_urls() == ["http://127.0.0.1:1/a", "http://127.0.0.1:2/b/"]


# ---------------------------------------------------------------------------------------------
# Downloading


def test_downloads_once_then_serves_from_disk(server, folders):
    data_dir, user_dir = folders
    assert_arrays(fm.load_data())
    assert sorted(server.requests) == sorted(f"/data/{name}" for name in NAMES.values())
    assert listing(data_dir) == sorted([*NAMES.values(), "cache"])  # no temporary file left
    assert len(listing(data_dir / "cache")) == 4
    assert not user_dir.exists()
    for name, data in FILES.items():
        assert (data_dir / name).read_bytes() == data
    server.stop()
    assert_arrays(fm.load_data())
    (x_train, t_train), (x_test, t_test) = fm.load_fashion_mnist()
    assert x_train.shape == (7, 784) and x_train.dtype == np.float32
    assert x_test.shape == (3, 784) and t_test.shape == (3,)
    np.testing.assert_allclose(x_train, ARRAYS["train_img"].reshape(7, 784) / 255.0, rtol=1e-6)
    assert len(server.requests) == 4
    assert [path.name for path in fm.download()] == list(NAMES.values())


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("one_hot_label", [True, False])
def test_load_fashion_mnist_shapes_as_the_book(server, normalize, flatten, one_hot_label):
    (x_train, t_train), (x_test, t_test) = fm.load_fashion_mnist(
        normalize=normalize, flatten=flatten, one_hot_label=one_hot_label
    )
    assert x_train.shape == ((7, 784) if flatten else (7, 1, 28, 28))
    assert x_test.shape == ((3, 784) if flatten else (3, 1, 28, 28))
    assert x_train.dtype == (np.float32 if normalize else np.uint8)
    np.testing.assert_allclose(
        x_train.reshape(7, 28, 28) * (255.0 if normalize else 1.0), ARRAYS["train_img"], rtol=1e-6
    )
    if one_hot_label:
        assert t_train.shape == (7, 10) and t_test.shape == (3, 10)
        np.testing.assert_array_equal(t_train.argmax(axis=1), ARRAYS["train_label"])
    else:
        np.testing.assert_array_equal(t_train, ARRAYS["train_label"])
    x_train[...] = 0  # the caller's own arrays: the next load is unchanged
    assert fm.load_fashion_mnist(normalize=False)[0][0].max() > 0


def test_mirrors_are_tried_in_turn(server, folders, monkeypatch):
    monkeypatch.setenv(fm.URL_ENV_VAR, f"{closed_port_url()},{server.url.rstrip('/')}")
    assert_arrays(fm.load_data())
    assert len(server.requests) == 4


def test_corrupt_download_is_not_kept(server, folders, tmp_path):
    data_dir, _ = folders
    bad = NAMES["train_label"]
    served = tmp_path / "served" / "data" / bad
    served.write_bytes(FILES[bad][:-5] + b"XXXXX")
    with pytest.raises(DatasetError) as excinfo:
        fm.load_data()
    message = one_line_error(excinfo)
    assert message.startswith(f"{bad} downloaded from {server.url}{bad}: checksum mismatch")
    assert f"expected {SUMS[bad]}" in message and "the file was not kept" in message
    assert "place the four files by hand in" in message
    assert listing(data_dir) == [NAMES["train_img"]]  # the good one stays, no temporary file
    # Once the server has the right file, only the missing ones are downloaded.
    served.write_bytes(FILES[bad])
    assert_arrays(fm.load_data())
    assert server.requests.count(f"/data/{NAMES['train_img']}") == 1
    assert server.requests.count(f"/data/{bad}") == 2


def test_missing_file_on_the_server(server, folders, tmp_path):
    data_dir, _ = folders
    missing = NAMES["test_label"]
    (tmp_path / "served" / "data" / missing).unlink()
    with pytest.raises(DatasetError) as excinfo:
        fm.load_data()
    message = one_line_error(excinfo)
    url = f"{server.url}{missing}"
    assert message.startswith(f"could not download {missing} ({url}: HTTP Error 404: ")
    assert message.endswith(
        f"; place the four files by hand in {data_dir} (from {fm.OFFICIAL_URLS[0]})"
    )
    assert listing(data_dir) == sorted([NAMES["train_img"], NAMES["train_label"],
                                        NAMES["test_img"]])


def test_offline_message_says_how_to_place_the_files(folders):
    data_dir, user_dir = folders
    url = fm.base_urls()[0]  # a closed port
    start = time.monotonic()
    with pytest.raises(DatasetError) as excinfo:
        fm.load_fashion_mnist()
    assert time.monotonic() - start < TIMEOUT
    message = one_line_error(excinfo)
    name = NAMES["train_img"]
    assert message.startswith(f"could not download {name} ({url}{name}: <urlopen error")
    assert message.endswith(
        f"); place the four files by hand in {data_dir} (from {fm.OFFICIAL_URLS[0]})"
    )
    assert "Connection refused" in message
    assert listing(data_dir) == [] and not user_dir.exists()


def test_stopped_server_is_offline(server, folders):
    server.stop()
    with pytest.raises(DatasetError, match=r"^could not download train-images-idx3-ubyte\.gz \("):
        fm.load_data()


def test_a_server_that_never_answers_times_out(folders, monkeypatch):
    monkeypatch.setattr(fm, "TIMEOUT", 0.5)
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv(fm.URL_ENV_VAR, f"http://127.0.0.1:{silent.getsockname()[1]}/")
        start = time.monotonic()
        with pytest.raises(DatasetError, match=r"^could not download .*timed out"):
            fm.load_data()
        assert time.monotonic() - start < TIMEOUT
    assert listing(folders[0]) == []


# ---------------------------------------------------------------------------------------------
# Files placed by hand, and where files go


@pytest.mark.parametrize("where", [0, 1], ids=["datasets-folder", "user-cache"])
def test_files_placed_by_hand_are_used_without_download(folders, where):
    folder = folders[where]
    folder.mkdir(parents=True)
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    assert_arrays(fm.load_data())  # the URL is a closed port: nothing was downloaded
    assert sorted(listing(folder)) == sorted([*FILES, "cache"])


def test_corrupt_file_placed_by_hand_is_reported_not_deleted(folders):
    data_dir, _ = folders
    data_dir.mkdir(parents=True)
    for name, data in FILES.items():
        (data_dir / name).write_bytes(data)
    bad = NAMES["test_img"]
    (data_dir / bad).write_bytes(b"not the original")
    with pytest.raises(DatasetError) as excinfo:
        fm.load_data()
    message = one_line_error(excinfo)
    assert message.startswith(f"{data_dir / bad}: checksum mismatch (MD5 ")
    assert f"expected {SUMS[bad]}" in message and "delete it to download it again" in message
    assert (data_dir / bad).read_bytes() == b"not the original"


def test_unwritable_datasets_folder_falls_back_to_the_user_cache(server, folders, tmp_path):
    data_dir, user_dir = folders
    (tmp_path / "data").write_text("a file where the data folder should be")
    assert_arrays(fm.load_data())
    assert listing(user_dir) == sorted([*FILES, "cache"])
    assert len(listing(user_dir / "cache")) == 4
    server.stop()
    assert_arrays(fm.load_data())
    assert len(server.requests) == 4


def test_nothing_writable(folders, tmp_path):
    (tmp_path / "data").write_text("not a folder")
    (tmp_path / "xdg").write_text("not a folder either")
    with pytest.raises(DatasetError) as excinfo:
        fm.load_data()
    message = one_line_error(excinfo)
    assert message.startswith(f"cannot download {NAMES['train_img']}: no folder can be written")
    assert "place the four files by hand in" in message
