"""Reporting: de-identified monthly funder reports (PDF and CSV), profiles and the archive."""

from flask import Blueprint

bp = Blueprint("reporting", __name__)
