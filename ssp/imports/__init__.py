"""Importing a program's spreadsheet history: mappings, previews, batches, undo."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/admin/imports")

from ssp.imports import models, views  # noqa: E402,F401  (routes and tables)
