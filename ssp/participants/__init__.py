"""Participants: anonymous codes, find and enrol, the participant page, merge."""

from flask import Blueprint

bp = Blueprint("participants", __name__)


@bp.app_context_processor
def _search_form() -> dict:
    """Every page may include the search box."""
    from ssp.participants.forms import SearchForm

    return {"search_form": SearchForm}
