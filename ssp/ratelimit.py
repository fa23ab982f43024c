"""The rate limiter of sign-in and the second step (Flask-Limiter), bound to the app with
its pages (``ssp.register_views``)."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter


def _client_address() -> str:
    """The client's address (after ProxyFix, when the app runs behind a proxy)."""
    return request.remote_addr or "unknown"


limiter = Limiter(key_func=_client_address)
