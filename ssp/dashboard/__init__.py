"""The home page after sign-in, and the health check."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)
