"""Static files (styles, scripts, the icon) that a phone on a slow network fetches once:
each URL the app writes carries a digest of the file's content (``?v=<digest>``), and a
request with the current digest may be kept by the browser for a year without asking
again; a changed file gets a new URL. Styles, scripts and SVG travel compressed (brotli
or gzip, by Flask-Compress).

Pages and JSON answers are never compressed: they hold secrets (the CSRF token,
participant codes) beside text a visitor can choose (a search), the mix a BREACH attack
reads through compressed sizes. They are small anyway.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

YEAR = 365 * 24 * 3600
COMPRESSED_TYPES = ["text/css", "text/javascript", "application/javascript", "image/svg+xml"]


class _Digests:
    """A file's content digest, read again only when its size or time changes."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder).resolve()
        self._known: dict[str, tuple[tuple[int, int], str]] = {}

    def of(self, filename: str) -> str | None:
        path = (self.folder / filename).resolve()
        if not path.is_relative_to(self.folder) or not path.is_file():
            return None
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = self._known.get(filename)
        if known is None or known[0] != stamp:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            known = self._known[filename] = (stamp, digest)
        return known[1]


class _MemoryCache:
    """Flask-Compress's cache of compressed static files: a few dozen, keyed by URL."""

    def __init__(self) -> None:
        self._items: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self._items.get(key)

    def set(self, key: str, value: bytes) -> None:
        if len(self._items) < 512:
            self._items[key] = value


def init_app(app: Flask) -> None:
    """Versioned static URLs, long caching for them, compression of static text."""
    from flask_compress import Compress

    digests = _Digests(app.static_folder or "static")

    @app.url_defaults
    def add_digest(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = digests.of(values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def cache_versioned_files(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args.get("v") == digests.of(filename):
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"  # ask each time (an ETag answer)
        return response

    cache = _MemoryCache()
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault(
        "COMPRESS_CACHE_KEY",
        lambda req: f"{req.path}#{digests.of((req.view_args or {}).get('filename', ''))}",
    )
    app.config.setdefault("COMPRESS_CACHE_BACKEND", lambda: cache)
    Compress(app)

    # Registered after Flask-Compress, so it runs before it: a static file is a stream of
    # the open file, which Flask-Compress would compress chunk by chunk on every request;
    # read whole (they are a few kB), it is compressed once and kept.
    @app.after_request
    def read_static_file_whole(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code == 200:
            stream = response.response
            response.direct_passthrough = False
            try:
                body = b"".join(stream)
            finally:
                getattr(stream, "close", lambda: None)()
            response.set_data(body)
        return response
