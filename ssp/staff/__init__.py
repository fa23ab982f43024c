"""Staff: accounts, sites, sign-in and sign-out, and their admin pages."""

from flask import Blueprint

bp = Blueprint("staff", __name__)

from ssp.staff import audit_views, views  # noqa: E402,F401  (registers the routes)
