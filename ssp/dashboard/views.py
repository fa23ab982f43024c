"""Home page with what the signed-in role can do; an unauthenticated health check."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from sqlalchemy import text

from ssp.dashboard import bp
from ssp.extensions import db
from ssp.referrals.services import worklist_counts
from ssp.security import Role, public
from ssp.supplies.stock import low_stock
from ssp.timeutil import program_today


@bp.get("/")
def index():
    """The starting page: the search box, and the follow-ups of the user's site."""
    site_id = current_user.site_id
    return render_template(
        "dashboard/index.html",
        follow_up_site=site_id,
        follow_up_counts=worklist_counts(program_today(), site_id),
        low_stock=low_stock() if current_user.role in (Role.MANAGER, Role.ADMIN) else [],
    )


@bp.get("/healthz")
@public
def health():
    """Answer 200 when the app can reach its database (for proxies and monitors)."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
