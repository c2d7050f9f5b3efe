"""`hf://ORG/NAME[@REVISION]`: the repository's files through `huggingface_hub`, checked.

The file list comes from the Hub, or, offline (`HF_HUB_OFFLINE=1`, or the Hub
out of reach), from the cache's snapshot of the revision, as `huggingface_hub`
itself falls back. Every fetched file is checked against the hash the Hub
names it by (the SHA-256 of a large file, the git blob SHA-1 of a small one):
one that does not match is deleted from the cache and refused.
"""

import hashlib
import os
import re

from keras_vit.weights import cache, hub, hub_files
from keras_vit.weights.formats.hf_config import read_json_object

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_CHUNK = 1 << 20
# Seconds to wait for the Hub's answer about a repository before trying the cache.
_TIMEOUT_S = 10
_TOKEN_HINT = "set HF_TOKEN to a token of an account with access (or run `hf auth login`)"


def fetch(spec, repo_id, revision):
    """The local path of what `spec` holds (see `keras_vit.weights.hub.local_path`)."""
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        raise hub.missing_package(spec, "huggingface_hub") from None
    fetched = {}

    def get(name):  # each file once: config.json is read for the plan, then kept
        if name not in fetched:
            fetched[name] = _download(spec, repo_id, revision, name)
        return fetched[name]

    plan = hub_files.plan(_listing(spec, repo_id, revision), lambda name: read_json_object(get(name)), spec)
    folder = os.path.dirname([get(name) for name in plan.files][0])
    for index in hub_files.indexes(plan):
        for shard in hub_files.shards(index, get(index)):
            get(shard)
    return hub.readable_path(folder, plan, f"hf--{repo_id.replace('/', '--')}--{os.path.basename(folder)}")


def _listing(spec, repo_id, revision):
    """The repository's files at `revision`: from the Hub, else from the cache."""
    from huggingface_hub import HfApi, constants

    if not constants.HF_HUB_OFFLINE:
        try:
            # One request (model_info), where list_repo_files retries an unreachable
            # Hub for half a minute before the cache is looked at.
            info = HfApi().model_info(repo_id, revision=revision, timeout=_TIMEOUT_S)
            return [sibling.rfilename for sibling in info.siblings or ()]
        except Exception as error:  # noqa: BLE001 - mapped to one line, or to the cache
            _raise_for_hub(spec, repo_id, revision, error)
            unreachable = f"{constants.ENDPOINT} cannot be reached ({type(error).__name__})"
    else:
        unreachable = "HF_HUB_OFFLINE is set"
    snapshot = _cached_snapshot(repo_id, revision)
    if snapshot is None:
        raise hub.HubError(
            f"{spec} is not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and {unreachable}: run it once "
            "with network access to fill the cache, or pass a local path instead."
        )
    return [
        os.path.relpath(os.path.join(root, name), snapshot)
        for root, _, files in os.walk(snapshot)
        for name in files
    ]


def _cached_snapshot(repo_id, revision):
    """The cache's snapshot folder of `repo_id` at `revision` (a branch, tag or commit), or None."""
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    repo = os.path.join(constants.HF_HUB_CACHE, repo_folder_name(repo_id=repo_id, repo_type="model"))
    commit = revision if revision and _SHA1.fullmatch(revision) else None
    if commit is None:
        ref = os.path.join(repo, "refs", revision or constants.DEFAULT_REVISION)
        if not os.path.isfile(ref):
            return None
        with open(ref, encoding="utf-8") as file:
            commit = file.read().strip()
    snapshot = os.path.join(repo, "snapshots", commit)
    return snapshot if os.path.isdir(snapshot) else None


def _download(spec, repo_id, revision, name):
    """One file of the repository, from the cache or the Hub, checked against its hash."""
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(repo_id, name, revision=revision)
    except Exception as error:  # noqa: BLE001 - mapped to one line
        _raise_for_hub(spec, repo_id, revision, error)
        raise hub.HubError(f"{spec}: could not fetch {name} ({type(error).__name__}: {_first_line(error)}).") from None
    _check_hash(spec, name, path)
    return path


def _check_hash(spec, name, path):
    """Refuses, and deletes from the cache, a file whose content is not the hash
    it is stored under (`blobs/<hash>`, the ETag the Hub sent)."""
    blob = os.path.realpath(path)
    etag = os.path.basename(blob)
    if os.path.basename(os.path.dirname(blob)) != "blobs":
        return  # a cache without symlinks keeps copies, not blobs named by their hash
    if _SHA256.fullmatch(etag):
        actual, kind = cache.file_sha256(blob), "SHA-256"
    elif _SHA1.fullmatch(etag):
        actual, kind = _git_blob_sha1(blob), "git blob SHA-1"
    else:
        return
    if actual != etag:
        for stale in (path, blob):
            cache.remove(stale)
        raise ValueError(
            f"{spec}: {name} does not match the {kind} the Hub published for it ({etag}; the file's is "
            f"{actual}). It was deleted from the cache: run again to fetch it anew."
        )


def _git_blob_sha1(path):
    digest = hashlib.sha1(f"blob {os.path.getsize(path)}\0".encode())
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _raise_for_hub(spec, repo_id, revision, error):
    """Raises the one-line `HubError` for what the Hub answered, if it answered."""
    from huggingface_hub import constants, errors

    page = f"{constants.ENDPOINT}/{repo_id}"
    if isinstance(error, errors.GatedRepoError):
        raise hub.HubError(f"{spec} is gated: accept its conditions at {page}, then {_TOKEN_HINT}.") from None
    if isinstance(error, errors.RepositoryNotFoundError):
        raise hub.HubError(
            f"{spec}: no repository {repo_id!r} on {constants.ENDPOINT}, or it is private: check the name, "
            f"or for a private one {_TOKEN_HINT}."
        ) from None
    if isinstance(error, errors.RevisionNotFoundError):
        raise hub.HubError(
            f"{spec}: {repo_id} has no revision {revision!r} (a branch, tag or commit): see {page}/tree/main."
        ) from None
    if isinstance(error, errors.LocalEntryNotFoundError):
        raise hub.HubError(
            f"{spec} is not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and the Hub cannot be "
            "reached (or HF_HUB_OFFLINE is set): run it once with network access, or pass a local path."
        ) from None
    if isinstance(error, errors.HfHubHTTPError):
        raise hub.HubError(f"{spec}: the Hub answered {_first_line(error)}") from None


def _first_line(error):
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
