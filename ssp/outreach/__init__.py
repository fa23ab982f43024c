"""Outreach: the phone screen for street and van teams, its sealed offline outbox, the
sync that records contacts exactly once, zones, and the review of held contacts."""

from flask import Blueprint

bp = Blueprint("outreach", __name__)

from ssp.outreach import views  # noqa: E402,F401  (registers the routes)
