"""Forms for partners, referrals, status changes and follow-ups.

Free-text fields are short and say on their face not to type names or other details.
"""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ssp.forms import Form, MultiCheckboxField, SaneDate, optional_int
from ssp.i18n import _, _l
from ssp.referrals.models import CATEGORY_LABELS, OUTCOME_LABELS, Partner

NO_IDENTIFIERS = _l("No names, phone numbers or other details that identify anyone.")

CATEGORY_CHOICES = [SelectChoice(value, label) for value, label in CATEGORY_LABELS.items()]
OUTCOME_CHOICES = [SelectChoice(value, label) for value, label in OUTCOME_LABELS.items()]


def partner_choices(partners: list[Partner], blank: str | None = None):
    """Partner options, each tagged with the categories it serves (for the filter script);
    the empty choice reads ``blank`` (by default "No particular partner")."""
    return [SelectChoice("", blank or _("No particular partner"))] + [
        SelectChoice(str(p.id), p.name, render_kw={"data-categories": " ".join(p.categories)})
        for p in partners
    ]


class PartnerForm(Form):
    """A partner agency in the directory."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter the agency's name.")), Length(min=2, max=120)],
        render_kw={"autocomplete": "off"},
    )
    categories = MultiCheckboxField(
        _l("Referral categories served"),
        choices=CATEGORY_CHOICES,
        validators=[DataRequired(_l("Tick at least one category."))],
    )
    contact = StringField(
        _l("Contact line for staff"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "How staff reach the agency (intake line, walk-in hours). Never a "
            "participant's details."
        ),
        render_kw={"autocomplete": "off", "maxlength": 200},
    )
    submit = SubmitField(_l("Save partner"))


class ReferralFieldsMixin:
    """Category, partner and note of a new referral."""

    category = SelectField(_l("Referral for"), choices=CATEGORY_CHOICES)
    partner_id = SelectField(
        _l("Partner"),
        coerce=optional_int,
        choices=[],
        render_kw={"data-partner-filter": "category"},
    )
    note = StringField(
        _l("Note"),
        validators=[Optional(), Length(max=200)],
        description=NO_IDENTIFIERS,
        render_kw={"autocomplete": "off", "maxlength": 200},
    )


class ReferralForm(ReferralFieldsMixin, Form):
    """A referral made from the participant page."""

    submit = SubmitField(_l("Make referral"))


class StatusForm(Form):
    """Move a referral to another status."""

    status = SelectField(_l("New status"), choices=[])
    submit = SubmitField(_l("Change status"))


class FollowUpForm(Form):
    """A follow-up added by hand."""

    reason = StringField(
        _l("What to follow up on"),
        validators=[DataRequired(_l("Say in a few words what to follow up on.")), Length(max=120)],
        description=NO_IDENTIFIERS,
        render_kw={"autocomplete": "off", "maxlength": 120},
    )
    due_on = DateField(
        _l("Due on"), validators=[InputRequired(_l("Choose the day it is due.")), SaneDate()]
    )
    assigned_user_id = SelectField(_l("Assigned to"), coerce=optional_int, choices=[])
    submit = SubmitField(_l("Add follow-up"))


class FollowUpEditForm(Form):
    """Reschedule or reassign an open follow-up."""

    due_on = DateField(
        _l("Due on"), validators=[InputRequired(_l("Choose the day it is due.")), SaneDate()]
    )
    assigned_user_id = SelectField(_l("Assigned to"), coerce=optional_int, choices=[])
    submit = SubmitField(_l("Save"))


class OutcomeForm(Form):
    """What the participant said about a follow-up."""

    outcome = SelectField(_l("Outcome"), choices=OUTCOME_CHOICES)
    note = StringField(
        _l("Note"),
        validators=[Optional(), Length(max=200)],
        description=NO_IDENTIFIERS,
        render_kw={"autocomplete": "off", "maxlength": 200},
    )
    submit = SubmitField(_l("Record outcome"))


def assignee_choices(users) -> list[SelectChoice]:
    """Staff a follow-up can be assigned to."""
    return [SelectChoice("", _("Nobody in particular"))] + [
        SelectChoice(str(u.id), u.username) for u in users
    ]


def status_choices(statuses) -> list[SelectChoice]:
    """Referral statuses as options."""
    return [SelectChoice(s.value, s.label) for s in statuses]
