"""The evaluator export page (managers and admins): the form, then the zip as a
download. Thin: the form parses, ``export.make_export`` does the work, one commit."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from ssp.database import reads_first
from ssp.evaluation.export import (
    PURPOSE_MAX,
    RECIPIENT_MAX,
    ExportError,
    NamesACode,
    cleared,
    make_export,
    withheld,
)
from ssp.evaluation.forms import ExportForm, period_choices
from ssp.extensions import db
from ssp.forms import show_rule_error
from ssp.reporting.periods import Month
from ssp.security import Role, role_required
from ssp.timeutil import program_today

bp = Blueprint("evaluation", __name__)

MANAGERS = (Role.MANAGER, Role.ADMIN)


@bp.route("/reports/evaluator-export", methods=["GET", "POST"])
@role_required(*MANAGERS)
@reads_first  # the visits are read without a lock; only the audit row writes
def export():
    """Choose the period and the shape of the file, state the purpose and the recipient;
    the export is made, audited and downloaded."""
    form = ExportForm()
    named = None
    today = program_today()
    current = Month(today.year, today.month)
    form.period.choices = period_choices(current)
    if request.method == "GET":
        form.period.data = current.shifted(-1).key
    if form.validate_on_submit():
        user_id = current_user.id
        try:
            made = make_export(form.to_request(), user_id=user_id)
        except NamesACode as error:
            db.session.rollback()
            named = error.field  # said by _withhold_codes below, with the box cleared
        except ExportError as error:
            db.session.rollback()
            show_rule_error(form, error)
        else:
            db.session.commit()
            return Response(
                made.data,
                mimetype="application/zip",
                headers={
                    "Content-Disposition": f'attachment; filename="{made.filename}"',
                    "Cache-Control": "no-store",
                },
            )
    if request.method == "POST":
        _withhold_codes(form, named)
    return render_template("evaluation/export.html", form=form), (
        422 if request.method == "POST" else 200
    )


def _withhold_codes(form: ExportForm, named: str | None) -> None:
    """A refused form is shown again with what was typed, except a purpose or recipient
    that names a participant code (``named``: the box the export refused for one) or is
    too long to check: that box is cleared, and says why. So the page never shows a code
    (and needs no view audit)."""
    for field, most in ((form.purpose, PURPOSE_MAX), (form.recipient, RECIPIENT_MAX)):
        reason = withheld(field.data, field.name, most)
        if reason is None and field.name == named:
            reason = cleared(field.name)
        if reason is not None:
            field.data = ""
            field.raw_data = []
            field.errors = [reason]
