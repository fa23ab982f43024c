"""Supplies: the catalogue of what the program hands out (and, later, stock)."""

from flask import Blueprint

bp = Blueprint("supplies", __name__)

from ssp.supplies import views  # noqa: E402,F401  (registers the routes)
