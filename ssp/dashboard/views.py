"""Home page with what the signed-in role can do; an unauthenticated health check."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user

from ssp.dashboard import bp
from ssp.dashboard.figures import month_so_far, reports_due
from ssp.dbstatus import app_database_problem
from ssp.forms import parse_id
from ssp.referrals.services import worklist_counts
from ssp.security import Role, public, role_required
from ssp.supplies.stock import low_stock
from ssp.timeutil import program_today
from ssp.visits.day import summary_line, tally, visits_of_day
from ssp.visits.models import Visit
from ssp.visits.services import may_change, visit_with_details


@bp.get("/")
def index():
    """The starting page: the search box, what was just saved, the follow-ups of the
    user's site and its day; for managers and admins, the month so far, stock to order
    and reports due."""
    site_id = current_user.site_id
    today = program_today()
    managing = current_user.role in (Role.MANAGER, Role.ADMIN)
    saved = _just_saved()
    return render_template(
        "dashboard/index.html",
        saved=saved,
        may_correct=saved is not None and may_change(current_user, saved),
        summary_line=summary_line,
        day_tally=tally(visits_of_day(today, site_id)) if site_id else None,
        low_stock=low_stock() if managing else [],
        month_so_far=month_so_far() if managing else [],
        overdue=worklist_counts(today)["overdue"] if managing else None,  # all sites
        reports_due=reports_due(today) if managing else [],
    )


@bp.get("/admin")
@role_required(Role.ADMIN)
def admin():
    """Every administration area, one tile each (the menu has one "Admin" link)."""
    return render_template("dashboard/admin.html")


def _just_saved() -> Visit | None:
    """The visit named by ?saved=, if the signed-in person logged it (the notice after a
    save says what it recorded and links to correct it)."""
    visit_id = parse_id(request.args.get("saved"))
    visit = visit_with_details(visit_id) if visit_id else None
    if visit is None or visit.user_id != current_user.id:
        return None
    return visit


@bp.get("/healthz")
@public
def health():
    """200 when the database answers and is at the latest migration, else 503 (for
    proxies and monitors); the reason goes to the log, not to the public answer."""
    problem = app_database_problem(current_app._get_current_object())
    if problem:
        current_app.logger.warning("Health check failed: %s", problem)
        return {"status": "unavailable"}, 503
    return {"status": "ok"}
