"""Referrals: the partner directory, referrals and their status, follow-ups and the worklist."""

from flask import Blueprint

bp = Blueprint("referrals", __name__)


@bp.record_once
def _check_settings(state) -> None:
    """A bad FOLLOW_UP_CLOSE_AFTER_DAYS stops the app at start, not at the first save."""
    from ssp.referrals.services import close_after_days

    close_after_days(state.app.config)
