"""Supplies: the catalogue of what the program hands out, and stock at each site."""

from flask import Blueprint

bp = Blueprint("supplies", __name__)

from ssp.supplies import stock_views, views  # noqa: E402,F401  (registers the routes)
