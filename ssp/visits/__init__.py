"""Visits: logging what a participant received, correcting and voiding visits."""

from flask import Blueprint

bp = Blueprint("visits", __name__)

from ssp.visits import views  # noqa: E402,F401  (registers the routes)
