"""Home page with what the signed-in role can do; an unauthenticated health check."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user

from ssp.dashboard import bp
from ssp.dbstatus import database_problem
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
    """200 when the database answers and is at the latest migration, else 503 (for
    proxies and monitors); the reason goes to the log, not to the public answer."""
    problem = database_problem(db.engine, current_app.extensions["migrate"].directory)
    if problem:
        current_app.logger.warning("Health check failed: %s", problem)
        return {"status": "unavailable"}, 503
    return {"status": "ok"}
