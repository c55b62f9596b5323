"""Serve a converted model folder to the app on this computer (CORS + byte ranges), standard library only.

    /usr/bin/python3 -m tools.convert.serve DIR [--port 8765] [--host 127.0.0.1]

Then paste http://127.0.0.1:8765/manifest.json into the app's Models panel ("load from a web address").
The app runs on another origin (its own port), so the files need `Access-Control-Allow-Origin`; Python's
plain `http.server` does not send it. Range requests are answered (206) so an interrupted download resumes.
"""
from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class Handler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "Range, If-Range")
        self.send_header("Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag, Accept-Ranges")
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def do_OPTIONS(self) -> None:  # noqa: N802 - http.server naming
        self.send_response(204)
        self.end_headers()

    def send_head(self):  # type: ignore[override]
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not rng or not os.path.isfile(path):
            return super().send_head()
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
        size = os.path.getsize(path)
        if not m or (m.group(1) == "" and m.group(2) == ""):
            return super().send_head()
        if m.group(1) == "":
            start, end = max(0, size - int(m.group(2))), size - 1
        else:
            start = int(m.group(1))
            end = min(size - 1, int(m.group(2))) if m.group(2) else size - 1
        if start >= size or start > end:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.end_headers()
            return None
        f = open(path, "rb")
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        self._remaining = end - start + 1
        return _Limited(f, self._remaining)


class _Limited:
    """A file object that stops after n bytes (copyfile reads until EOF)."""

    def __init__(self, f, n: int):
        self.f, self.n = f, n

    def read(self, k: int = -1) -> bytes:
        if self.n <= 0:
            return b""
        k = self.n if k < 0 else min(k, self.n)
        b = self.f.read(k)
        self.n -= len(b)
        return b

    def close(self) -> None:
        self.f.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--host", default="127.0.0.1")
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.dir, "manifest.json")):
        print(f"warning: {a.dir} has no manifest.json", file=sys.stderr)
    httpd = ThreadingHTTPServer((a.host, a.port), functools.partial(Handler, directory=a.dir))
    print(f"serving {os.path.abspath(a.dir)} at http://{a.host}:{a.port}/manifest.json (Ctrl+C stops)")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
