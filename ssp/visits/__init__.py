"""Visits: logging what a participant received, correcting and voiding visits."""

from flask import Blueprint

bp = Blueprint("visits", __name__)
