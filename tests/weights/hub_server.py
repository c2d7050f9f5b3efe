"""A local stand-in for the Hugging Face Hub (`HF_ENDPOINT`), and the hub clients pointed at it.

It answers what `huggingface_hub` asks when it lists and downloads a model
repository: `GET /api/models/ORG/NAME[/revision/REVISION]` and `HEAD`/`GET
/ORG/NAME/resolve/REVISION/FILE`, with the Hub's headers (`X-Repo-Commit`,
`X-Linked-Etag` holding a large file's SHA-256, the git blob SHA-1 of a small
one, `X-Error-Code` for a missing repository or revision), byte ranges for
resumed downloads, and faults a test asks for: a wrong ETag, a connection
dropped part-way through a file, a gated repository.
"""

import contextlib
import hashlib
import http.server
import json
import re
import threading
import urllib.parse

# Files at least this large are served as the Hub serves LFS files: named by their SHA-256.
LFS_THRESHOLD = 1024


def git_blob_sha1(data):
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


class HubServer:
    """Serves `repos`: `{repo_id: {"commit": str, "refs": {name: commit}, "files": {name: bytes}}}`.

    Attributes:
        wrong_etag: set of file names whose published hash is wrong.
        drop_once: set of file names whose first GET stops half-way.
        gated: set of repo ids answered as gated (403, `X-Error-Code: GatedRepo`).
        requests: list of `(method, path, range header)` received.
    """

    def __init__(self):
        self.repos = {}
        self.wrong_etag, self.drop_once, self.gated = set(), set(), set()
        self.requests = []
        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.hub = self

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, repo_id, files, revision="main"):
        """Publishes `files` (`{name: bytes}`) as `repo_id` at a commit named by their content."""
        digest = hashlib.sha1(repr(sorted((k, hashlib.sha1(v).hexdigest()) for k, v in files.items())).encode())
        commit = digest.hexdigest()
        repo = self.repos.setdefault(repo_id, {"refs": {}, "commits": {}})
        repo["refs"][revision] = commit
        repo["commits"][commit] = dict(files)
        return commit

    def fetched(self):
        """The files downloaded whole or in part (GET), by name."""
        return [path.rsplit("/", 1)[-1] for method, path, _ in self.requests if method == "GET" and "/resolve/" in path]

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


_INFO = re.compile(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/?]+))?")
_RESOLVE = re.compile(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_HEAD(self):
        self._answer(body=False)

    def do_GET(self):
        self._answer(body=True)

    def _answer(self, body):
        hub = self.server.hub
        path = urllib.parse.urlsplit(self.path).path
        hub.requests.append((self.command, path, self.headers.get("Range")))
        if match := _INFO.fullmatch(path):
            return self._info(match.group(1), match.group(2) or "main")
        if match := _RESOLVE.fullmatch(path):
            return self._file(*match.groups(), body=body)
        self._error(404, "RepoNotFound")

    def _commit(self, repo_id, revision):
        hub = self.server.hub
        repo_id, revision = urllib.parse.unquote(repo_id), urllib.parse.unquote(revision)
        if repo_id in hub.gated:
            return self._error(403, "GatedRepo")
        repo = hub.repos.get(repo_id)
        if repo is None:
            return self._error(404, "RepoNotFound")
        commit = repo["refs"].get(revision, revision if revision in repo["commits"] else None)
        if commit is None:
            return self._error(404, "RevisionNotFound")
        return commit, repo["commits"][commit]

    def _info(self, repo_id, revision):
        found = self._commit(repo_id, revision)
        if found is None:
            return
        commit, files = found
        info = {"id": urllib.parse.unquote(repo_id), "sha": commit,
                "siblings": [{"rfilename": name} for name in sorted(files)]}
        self._send(200, json.dumps(info).encode(), {"Content-Type": "application/json"})

    def _file(self, repo_id, revision, name, body):
        found = self._commit(repo_id, revision)
        if found is None:
            return
        commit, files = found
        name = urllib.parse.unquote(name)
        if name not in files:
            return self._error(404, "EntryNotFound")
        data = files[name]
        etag = hashlib.sha256(data).hexdigest() if len(data) >= LFS_THRESHOLD else git_blob_sha1(data)
        if name in self.server.hub.wrong_etag:
            etag = "0" * len(etag)
        headers = {"X-Repo-Commit": commit, "ETag": f'"{etag}"', "X-Linked-Etag": f'"{etag}"',
                   "X-Linked-Size": str(len(data)), "Accept-Ranges": "bytes"}
        start = _range_start(self.headers.get("Range"))
        if not body:
            return self._send(200, b"", {**headers, "Content-Length": str(len(data))}, body=False)
        status = 206 if start else 200
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        if name in self.server.hub.drop_once:
            self.server.hub.drop_once.discard(name)
            return self._drop(data[start:], headers)
        self._send(status, data[start:], headers)

    def _drop(self, data, headers):
        """Sends the headers of the whole body, then half of it, and closes the connection."""
        self.send_response(200)
        for key, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)

    def _error(self, status, code):
        self._send(status, json.dumps({"error": code}).encode(), {"X-Error-Code": code,
                                                                 "Content-Type": "application/json"})

    def _send(self, status, data, headers, body=True):
        self.send_response(status)
        headers = {"Content-Length": str(len(data)), **headers} if body else headers
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format, *args):
        pass


def _range_start(header):
    match = re.fullmatch(r"bytes=(\d+)-", header or "")
    return int(match.group(1)) if match else 0


@contextlib.contextmanager
def hub_client(monkeypatch, cache_root, endpoint="http://127.0.0.1:9", offline=False):
    """Points `huggingface_hub` (read at its import) at `endpoint` and a cache under `cache_root`."""
    from huggingface_hub import constants

    hub_cache = str(cache_root / "hub")
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", hub_cache)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("KERAS_HOME", str(cache_root / "keras"))
    yield hub_cache
