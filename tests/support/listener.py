"""A local HTTP server that records every request made to it: what hostile mail must never reach."""

from __future__ import annotations

import http.server
import threading


class Listener:
    """A local HTTP server that records every request made to it: what hostile mail must never reach."""

    def __init__(self, page: bytes = b"ok") -> None:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(page)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.hits = hits
        self.hit = threading.Event()
        hit = self.hit

        class Recording(Handler):
            def do_GET(self) -> None:
                super().do_GET()
                hit.set()

            do_POST = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reached_within(self, seconds: float) -> bool:
        """Whether any request arrives within `seconds`: returns at the first one (a failure shows at
        once); a quiet listener is the bound running out, which is what proving "nothing" takes."""
        return self.hit.wait(seconds)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
