"""Downloads land whole and verified or not at all, and cached files are checked on every use."""

import base64
import concurrent.futures
import fcntl
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_vit.utils import progress
from keras_vit.weights import cache, download, registry
from keras_vit.weights.hashes import Crc32c
from keras_vit.weights.registry import WeightsEntry
from tests.cli.console import keras_vit
from tests.weights.http_server import FileServer

pytestmark = pytest.mark.backend_independent(reason="downloads, hashes and the cache are files and HTTP; keras-vit weights verify loads no framework")

NAME = "ViT.npz"


def _bytes(length, seed=0):
    return np.random.default_rng(seed).integers(0, 256, length, dtype=np.uint8).tobytes()


# 6,147 bytes: not a whole number of the CRC's 256-byte lanes, nor of its blocks.
BODY = _bytes(6147)


def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def _reference_crc32c(data):
    """CRC32C one byte at a time (RFC 3720, B.4), big-endian as Cloud Storage publishes it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return (crc ^ 0xFFFFFFFF).to_bytes(4, "big")


def _base64(digest):
    return base64.b64encode(digest).decode()


CRC32C = _base64(_reference_crc32c(BODY))
MD5 = _base64(hashlib.md5(BODY).digest())
SHA256 = hashlib.sha256(BODY).hexdigest()
WRONG_CRC32C = _base64(bytes(4))
WRONG_MD5 = _base64(bytes(16))


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(cache, "TIMEOUT_S", 5)
    with FileServer() as files:
        files.body = BODY
        yield files


def _fetch(server, tmp_path, sha256=None):
    return cache.cached_file(server.url(NAME), str(tmp_path / "keras_vit" / NAME), sha256)


def _listing(tmp_path):
    return sorted(os.listdir(tmp_path / "keras_vit"))


def _read(path):
    with open(path, "rb") as file:
        return file.read()


@pytest.mark.parametrize("length", [0, 1, 255, 256, 257, 6147, (1 << 20) + 3])
def test_crc32c_is_the_one_computed_one_byte_at_a_time(length):
    data = _bytes(length, seed=length)
    hasher = Crc32c()
    hasher.update(data[: length // 3])
    hasher.update(data[length // 3:])
    assert hasher.digest() == _reference_crc32c(data)


def test_crc32c_gives_the_catalogued_check_value():
    hasher = Crc32c()
    hasher.update(b"123456789")
    assert hasher.digest().hex() == "e3069283"  # CRC-32C's check value (RFC 3720, B.4)


def test_a_whole_download_is_kept_with_its_sha256_and_used_without_another_download(server, tmp_path):
    server.headers = [("x-goog-hash", f"crc32c={CRC32C}"), ("x-goog-hash", f"md5={MD5}")]
    path = _fetch(server, tmp_path)
    assert path == str(tmp_path / "keras_vit" / NAME) and _read(path) == BODY
    assert _listing(tmp_path) == [NAME, NAME + ".sha256"]
    assert _read(path + ".sha256") == f"{SHA256}  {NAME}\n".encode()
    assert _fetch(server, tmp_path) == path and server.requests == 1


def test_a_download_counts_its_bytes_of_the_total_where_progress_is_shown(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)  # every chunk, not one line per 10 s
    server.answer = "stall"  # half the file, and the rest once the first line is out

    class Releasing(io.StringIO):
        def write(self, text):
            server.release.set()
            return super().write(text)

    shown = Releasing()
    with progress.shown(shown):
        _fetch(server, tmp_path)
    lines = shown.getvalue().splitlines()
    assert re.fullmatch(r"downloading ViT\.npz: \d\.\d of 6\.1 kB, [\d.]+ s, about [\d.]+ s left", lines[0]), lines
    assert re.fullmatch(r"downloading ViT\.npz: 6\.1 kB in [\d.]+ s", lines[-1]), lines
    cache.remove(str(tmp_path / "keras_vit" / NAME))
    capsys.readouterr()
    _fetch(server, tmp_path)  # a library call, progress not shown: the download's one line only
    assert capsys.readouterr().err == f"Downloading {server.url(NAME)} (0.0 MB) to {tmp_path / 'keras_vit' / NAME}\n"


@pytest.mark.parametrize(
    "headers, refused",
    [
        ([("x-goog-hash", f"crc32c={WRONG_CRC32C}")], ("CRC32C", WRONG_CRC32C, CRC32C)),
        ([("x-goog-hash", f"crc32c={CRC32C},md5={WRONG_MD5}")], ("MD5", WRONG_MD5, MD5)),
        ([("x-goog-hash", f"crc32c={CRC32C}")], None),
        ([("x-goog-hash", f"md5={MD5}")], None),
        # Hashes of the stored gzip bytes, which Cloud Storage decompresses on the way: not the body's.
        ([("x-goog-hash", f"md5={WRONG_MD5}"), ("x-goog-stored-content-encoding", "gzip")], None),
    ],
    ids=["wrong-crc32c", "wrong-md5", "crc32c", "md5", "transcoded"],
)
def test_the_hash_the_server_publishes_is_checked(server, tmp_path, headers, refused):
    server.headers = headers
    if refused is None:
        assert _read(_fetch(server, tmp_path)) == BODY
        return
    name, expected, received = refused
    with pytest.raises(ValueError) as error:
        _fetch(server, tmp_path)
    assert str(error.value) == (
        f"{tmp_path / 'keras_vit' / NAME} downloaded from {server.url(NAME)} does not match the {name} its "
        f"server published (x-goog-hash): expected {expected}, received {received}. The download was deleted."
    )
    assert _listing(tmp_path) == []


def test_an_answer_shorter_than_its_content_length_is_refused(server, tmp_path):
    server.answer = "short"
    with pytest.raises(OSError) as error:
        _fetch(server, tmp_path)
    assert str(error.value) == (
        f"The download of {server.url(NAME)} into {tmp_path / 'keras_vit' / NAME} stopped short: expected "
        f"{len(BODY)} bytes (Content-Length), received {len(BODY) // 2}. Nothing was kept."
    )
    assert _listing(tmp_path) == []


def test_a_dropped_connection_names_the_url_and_the_offline_way_and_keeps_nothing(server, tmp_path):
    server.answer = "drop"
    entry = WeightsEntry("test", "B/16", server.url("ViT-B_16.npz"), 7, 32)
    with pytest.raises(OSError, match=r"^Could not download http://127\.0\.0\.1:\d+/ViT-B_16\.npz \(\w+: .*\)\. "
                       r"Without network access, .* weights='/path/to/ViT-B_16\.npz' "
                       r"\(keras-vit: --weights /path/to/ViT-B_16\.npz\)\.$"):
        download.fetch(entry, cache_dir=str(tmp_path))
    assert _listing(tmp_path) == []


def test_a_download_is_checked_against_the_registry_sha256(server, tmp_path):
    with pytest.raises(ValueError) as error:
        _fetch(server, tmp_path, sha256="0" * 64)
    assert str(error.value) == (
        f"{tmp_path / 'keras_vit' / NAME} downloaded from {server.url(NAME)} does not match its SHA-256 "
        f"{'0' * 64}: received {SHA256}. The download was deleted."
    )
    assert _listing(tmp_path) == []
    assert _read(_fetch(server, tmp_path, sha256=SHA256.upper())) == BODY


def test_a_cached_file_the_registry_sha256_disowns_is_deleted(server, tmp_path):
    path = _fetch(server, tmp_path)
    assert cache.verify(path, SHA256) is None
    assert cache.verify(path, "0" * 64) == f"its SHA-256 is {SHA256}, the registry says {'0' * 64}"
    assert _listing(tmp_path) == []


def test_a_file_corrupted_on_disk_is_noticed_on_next_use_and_fetched_again(server, tmp_path):
    path = _fetch(server, tmp_path)
    status = os.stat(path)
    with open(path, "r+b") as file:
        file.seek(100)
        file.write(bytes([BODY[100] ^ 1]))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))  # same size and time: only the hash tells
    assert cache.problem(path) == (
        f"its SHA-256 is {cache.file_sha256(path)}, its record says {SHA256}"
    )
    assert _fetch(server, tmp_path) == path and _read(path) == BODY and server.requests == 2


def test_a_file_without_a_record_is_fetched_again_unless_the_registry_vouches_for_it(server, tmp_path):
    folder = tmp_path / "keras_vit"
    folder.mkdir()
    (folder / NAME).write_bytes(BODY[:1000])  # what a killed download of an older keras_vit left
    assert _read(_fetch(server, tmp_path)) == BODY and server.requests == 1
    os.remove(folder / (NAME + ".sha256"))
    assert _read(_fetch(server, tmp_path, sha256=SHA256)) == BODY and server.requests == 1
    assert _read(folder / (NAME + ".sha256")) == f"{SHA256}  {NAME}\n".encode()


def test_a_killed_download_leaves_nothing_at_the_path_and_the_next_fetch_removes_its_part(server, tmp_path):
    server.body = _bytes(1 << 16)  # past the file's 8 KiB buffer, so that half of it reaches the disk
    server.answer = "stall"
    folder, path = tmp_path / "keras_vit", tmp_path / "keras_vit" / NAME
    code = f"from keras_vit.weights.cache import cached_file; cached_file({server.url(NAME)!r}, {str(path)!r})"
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert server.half_sent.wait(60), "the child process never asked for the file"
        _wait_for(lambda: any(name.startswith(NAME + ".part-") and os.path.getsize(folder / name)
                              for name in os.listdir(folder)))
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert not path.exists() and not (folder / (NAME + ".sha256")).exists()
    server.answer = "whole"
    assert _read(_fetch(server, tmp_path)) == server.body
    assert _listing(tmp_path) == [NAME, NAME + ".sha256"]


def _wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        time.sleep(0.02)


def test_two_fetches_at_once_download_once_and_leave_one_good_file(server, tmp_path):
    server.answer = "stall"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = pool.submit(_fetch, server, tmp_path)
        assert server.half_sent.wait(10)
        second = pool.submit(_fetch, server, tmp_path)
        time.sleep(0.3)  # time enough for the second to ask the server, were it not waiting its turn
        server.release.set()
        paths = [first.result(10), second.result(10)]
    assert paths == [str(tmp_path / "keras_vit" / NAME)] * 2
    assert _read(paths[0]) == BODY and server.requests == 1
    assert _listing(tmp_path) == [NAME, NAME + ".sha256"]


def test_only_parts_that_no_running_download_holds_are_removed(server, tmp_path):
    folder = tmp_path / "keras_vit"
    folder.mkdir()
    parts = [f"{NAME}.part-{token}" for token in ("live", "dead")] + [f"{NAME}.sha256.part-dead"]
    for name in parts:
        (folder / name).write_bytes(b"half")
    with open(folder / parts[0], "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as the download writing it holds it
        _fetch(server, tmp_path)
        assert _listing(tmp_path) == [NAME, parts[0], NAME + ".sha256"]


def test_weights_verify_reports_each_file_and_deletes_the_corrupt_ones(tmp_path):
    folder = tmp_path / "keras_vit"
    folder.mkdir()
    good, corrupt, unrecorded = (registry.get(variant, "imagenet21k").filename for variant in ("B/16", "B/32", "L/16"))
    for name in (good, corrupt, unrecorded):
        (folder / name).write_bytes(BODY)
    (folder / (good + ".sha256")).write_text(f"{SHA256}  {good}\n")
    (folder / (corrupt + ".sha256")).write_text(f"{'1' * 64}  {corrupt}\n")
    done = keras_vit("weights", "verify", "imagenet21k", env={"KERAS_HOME": str(tmp_path)}, timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "B/16             imagenet21k                  ok",
        f"B/32             imagenet21k                  corrupt: its SHA-256 is {SHA256}, its record says {'1' * 64}; "
        "deleted",
        f"L/16             imagenet21k                  corrupt: no record of a verified download ({unrecorded}.sha256); "
        "deleted",
        "L/32             imagenet21k                  not cached",
        "H/14             imagenet21k                  not cached",
        "R50+B/16         imagenet21k                  not cached",
        f"1 ok, 2 corrupt (deleted), 3 not cached in {folder}",
    ]
    assert sorted(os.listdir(folder)) == [good, good + ".sha256"]
    again = keras_vit("weights", "verify", "imagenet21k", "--variant", "B/16", env={"KERAS_HOME": str(tmp_path)},
                      timeout=60)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == f"1 ok, 0 corrupt (deleted), 0 not cached in {folder}"
