"""Files downloaded into a cache folder whole and verified, or not at all.

A download is written to `<file>.part-<random>` beside its final path and renamed
into place (`os.replace`, atomic) only once its length matches `Content-Length`,
its MD5 or CRC32C the server's `x-goog-hash` (Google Cloud Storage sends one)
and its SHA-256 the one expected, where known. The SHA-256 of every verified file
is recorded beside it in `<file>.sha256` (as `sha256sum` writes it), and a cached
file is used only while it still has that SHA-256. Processes fetching one file
take turns on `<file>.lock`, so one downloads and the others find its file. A
process killed mid-way leaves only its `.part-` file, which the next fetch of the
same file removes.
"""

import base64
import contextlib
import hashlib
import os
import secrets
import sys
import urllib.request

from keras_vit.utils import progress
from keras_vit.weights.hashes import goog_hashes, transfer_hasher

try:
    import fcntl
except ImportError:  # Windows has no flock: there the atomic rename alone keeps files whole.
    fcntl = None

CACHE_SUBDIR = "keras_vit"
RECORD_SUFFIX = ".sha256"
# Seconds a connection or one read may wait for the server before the download fails.
TIMEOUT_S = 60
_PART = ".part-"
_CHUNK = 1 << 20


def cache_folder(cache_dir=None):
    """Where named weights are kept: `cache_dir`, `$KERAS_HOME` or `~/.keras`, then `keras_vit/`."""
    root = cache_dir or os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(root, CACHE_SUBDIR)


def cached_file(url, path, sha256=None):
    """Returns `path`, first downloading `url` to it unless it holds a verified download.

    Args:
        url: str. Where the file is published (`https://`, `http://` or `file://`).
        path: str. Where it is kept.
        sha256: str or None. Its SHA-256 in hex, where known. Defaults to None.

    Raises:
        OSError: the server could not be reached, or its answer stopped short.
        ValueError: the file arrived whole but is not the one its server or `sha256` names.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with _turn(path):
        _remove_abandoned_parts(path)
        if os.path.exists(path) and problem(path, sha256) is None:
            return path
        remove(path)
        _download(url, path, sha256)
    return path


def verify(path, sha256=None):
    """Checks a cached file as `cached_file` does before using it, and deletes it when it fails.

    Returns:
        None when `path` is a verified download, else why it is not (it is then deleted).
    """
    with _turn(path):
        why = problem(path, sha256)
        if why is not None:
            remove(path)
    return why


def problem(path, sha256=None):
    """Why the existing file `path` is not the verified download it should be, or None.

    A file without a record (an older keras_vit's download, or one copied there)
    passes only when `sha256` is given and matches; it then gets its record.
    """
    recorded = _recorded(path)
    if recorded is None and sha256 is None:
        return f"no record of a verified download ({os.path.basename(path)}{RECORD_SUFFIX})"
    actual = file_sha256(path)
    for expected, whose in ((recorded, "its record"), (sha256, "the registry")):
        if expected is not None and actual != expected.lower():
            return f"its SHA-256 is {actual}, {whose} says {expected}"
    if recorded is None:
        _record(path, actual)
    return None


def remove(path):
    """Deletes a cached file and its record, whichever exist."""
    _delete(path)
    _delete(path + RECORD_SUFFIX)


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url, path, sha256):
    part = _new_part(path)
    try:
        with part:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
                received = _receive(response, part, url, path)
            part.flush()
            os.fsync(part.fileno())
        if sha256 is not None and received != sha256.lower():
            raise ValueError(
                f"{path} downloaded from {url} does not match its SHA-256 {sha256}: received "
                f"{received}. The download was deleted."
            )
        os.replace(part.name, path)
    except BaseException:
        _delete(part.name)
        raise
    _record(path, received)


def _receive(response, file, url, path):
    """Writes `response`'s body to `file`; returns its SHA-256 once its length and the
    server's published hash, if any, are what the body gives."""
    length = response.headers.get("Content-Length")
    published = goog_hashes(response.headers)
    _announce(url, path, length)
    sha256, transfer, received = hashlib.sha256(), transfer_hasher(published), 0
    total = int(length) if length is not None else None
    with progress.counter(f"downloading {os.path.basename(path)}", total, "bytes") as count:
        while chunk := response.read1(_CHUNK):
            file.write(chunk)
            sha256.update(chunk)
            if transfer is not None:
                transfer.update(chunk)
            received += len(chunk)
            count.add(len(chunk))
    if length is not None and received != int(length):
        raise OSError(
            f"The download of {url} into {path} stopped short: expected {length} bytes "
            f"(Content-Length), received {received}. Nothing was kept."
        )
    if transfer is not None and transfer.digest() != published[transfer.name]:
        raise ValueError(
            f"{path} downloaded from {url} does not match the {transfer.name.upper()} its server "
            f"published (x-goog-hash): expected {_base64(published[transfer.name])}, received "
            f"{_base64(transfer.digest())}. The download was deleted."
        )
    return sha256.hexdigest()


def _announce(url, path, length):
    size = f" ({int(length) / 1e6:.1f} MB)" if length is not None else ""
    print(f"Downloading {url}{size} to {path}", file=sys.stderr, flush=True)


def _base64(digest):
    return base64.b64encode(digest).decode()


def _new_part(path):
    """A new, locked `path.part-<random>` to write to: locked, so that no other
    process takes it for the leftover of a killed one."""
    name = f"{path}{_PART}{secrets.token_hex(6)}"
    file = open(name, "xb")
    if fcntl is not None:
        fcntl.flock(file, fcntl.LOCK_EX)
    return file


def _record(path, sha256):
    """Writes `path.sha256` whole or not at all."""
    with _new_part(path + RECORD_SUFFIX) as part:
        part.write(f"{sha256}  {os.path.basename(path)}\n".encode())
    os.replace(part.name, path + RECORD_SUFFIX)


def _recorded(path):
    """The SHA-256 in `path.sha256`: "" when the record is empty, None when there is none."""
    try:
        with open(path + RECORD_SUFFIX) as file:
            words = file.read().split()
    except FileNotFoundError:
        return None
    return words[0] if words else ""


def _remove_abandoned_parts(path):
    """Removes the `.part-` files of `path` and of its record that no running download holds."""
    folder, base = os.path.split(path)
    prefixes = (base + _PART, base + RECORD_SUFFIX + _PART)
    for name in os.listdir(folder):
        part = os.path.join(folder, name)
        if name.startswith(prefixes) and _abandoned(part):
            # Windows refuses to delete a file another process has open.
            with contextlib.suppress(OSError):
                os.remove(part)


def _abandoned(part):
    if fcntl is None:
        return True
    with open(part, "rb") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


@contextlib.contextmanager
def _turn(path):
    """Holds `path.lock` while this process checks, downloads or deletes `path`."""
    if fcntl is None:
        yield
        return
    lock = path + ".lock"
    with open(lock, "ab") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            # Deleted while held, so that the folder keeps no lock files. A process
            # already waiting on it may then run beside the next one: at worst both
            # download, and each renames a whole, verified file into place.
            _delete(lock)


def _delete(name):
    with contextlib.suppress(FileNotFoundError):
        os.remove(name)
