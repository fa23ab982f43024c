"""The home page after sign-in, and the health check."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from ssp.dashboard import views  # noqa: E402,F401  (registers the routes)
