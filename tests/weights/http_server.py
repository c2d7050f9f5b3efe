"""A file server on 127.0.0.1 whose answer each test sets: whole, short, dropped, or stalled half-way."""

import http.server
import socket
import struct
import threading

# Seconds a stalled answer waits to be released before it gives up.
STALL_S = 20


class FileServer:
    """Serves `body` for any path, the way `answer` says.

    Attributes:
        body: bytes. The file.
        headers: list of (name, value). Headers sent besides `Content-Length` (a
            name may repeat, as `x-goog-hash` does).
        answer: str. "whole"; "short" (half the body, then a clean close, under
            the whole body's `Content-Length`); "drop" (half, then a TCP reset);
            "stall" (half, then wait for `release`, then the rest).
        requests: int. GET requests answered so far.
        half_sent: threading.Event. Set once a stalled answer has sent its half.
        release: threading.Event. Lets a stalled answer finish.
    """

    def __init__(self):
        self.body = b""
        self.headers = []
        self.answer = "whole"
        self.requests = 0
        self.counting = threading.Lock()
        self.half_sent = threading.Event()
        self.release = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.files = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def url(self, name):
        return f"http://127.0.0.1:{self._server.server_port}/{name}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client killed or gone mid-answer: expected here


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        files = self.server.files
        with files.counting:
            files.requests += 1
        body, half = files.body, len(files.body) // 2
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        for name, value in files.headers:
            self.send_header(name, value)
        self.end_headers()
        if files.answer == "whole":
            self.wfile.write(body)
            return
        self.wfile.write(body[:half])
        self.wfile.flush()
        if files.answer == "drop":
            # Linger 0: close() sends a reset instead of the orderly end of a "short" answer.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        elif files.answer == "stall":
            files.half_sent.set()
            if files.release.wait(STALL_S):
                self.wfile.write(body[half:])

    def log_message(self, format, *args):
        pass
