"""Form pieces shared by several feature packages."""

from __future__ import annotations

from flask import abort
from flask_wtf import FlaskForm
from wtforms import SubmitField

from ssp.errors import RuleError


class ConfirmForm(FlaskForm):
    """An empty form: a button whose POST carries the CSRF token."""

    submit = SubmitField("Confirm")


def optional_int(value: str | int | None) -> int | None:
    """Select-field coercion: an empty choice means None, anything else an int."""
    if value in (None, ""):
        return None
    return int(value)


def require_confirmed_post() -> None:
    """Abort with 400 unless the request is a POST with a valid CSRF token."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def show_rule_error(form: FlaskForm, error: RuleError) -> None:
    """Show a service's refusal next to its field, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))
