"""Staff: accounts, sites, sign-in and sign-out, and their admin pages."""

from flask import Blueprint

bp = Blueprint("staff", __name__)
