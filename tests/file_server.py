"""A static file server on 127.0.0.1 that stands in for download hosts (PyPI, GitHub releases) in tests."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def serve_files(files: Mapping[str, bytes]) -> Iterator[str]:
    """Serve ``files`` (URL path → body; anything else is 404) and yield the base URL."""
    contents = dict(files)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = contents.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
