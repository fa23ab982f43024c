"""Home page with what the signed-in role can do; an unauthenticated health check."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import text

from ssp.dashboard import bp
from ssp.extensions import db
from ssp.security import public


@bp.get("/")
def index():
    """The signed-in user's starting page."""
    return render_template("dashboard/index.html")


@bp.get("/healthz")
@public
def health():
    """Answer 200 when the app can reach its database (for proxies and monitors)."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
