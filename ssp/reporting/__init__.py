"""Reporting: de-identified monthly funder reports (PDF and CSV), profiles and the archive."""

from flask import Blueprint

bp = Blueprint("reporting", __name__)

from ssp.reporting import views  # noqa: E402,F401  (registers the routes)
