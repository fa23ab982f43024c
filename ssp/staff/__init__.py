"""Staff: accounts, sites, sign-in and sign-out, and their admin pages."""

from flask import Blueprint

bp = Blueprint("staff", __name__)

from ssp.staff import account_views, audit_views, views  # noqa: E402,F401  (the routes)
