"""The visit form, built per request from the active catalogue; and the void form."""

from __future__ import annotations

import datetime as dt
import secrets

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ssp.forms import SaneDate, optional_int
from ssp.referrals.forms import (
    CATEGORY_CHOICES,
    NO_IDENTIFIERS,
    OUTCOME_CHOICES,
    partner_choices,
)
from ssp.supplies.models import SupplyCategory, SupplyItem
from ssp.visits.models import NaloxoneReason, Service, VisitKind
from ssp.visits.services import ItemLine, VisitDetails

KIND_CHOICES = [SelectChoice(k.value, k.label) for k in VisitKind]
REASON_CHOICES = [SelectChoice("", "Why this kit?")] + [
    SelectChoice(r.value, r.label) for r in NaloxoneReason
]
WHOLE_NUMBER = "Enter a whole number, 0 or more."


def _count_field(label: str, **render_kw) -> IntegerField:
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(min=0, message=WHOLE_NUMBER)],
        render_kw={"min": 0, "inputmode": "numeric", "autocomplete": "off", **render_kw},
    )


class VisitFormBase(FlaskForm):
    """The fixed part of the visit form; item fields are added per catalogue."""

    submission_key = HiddenField()
    site_id = SelectField("Site", coerce=int, choices=[])
    kind = SelectField("How they were reached", choices=KIND_CHOICES)
    occurred_at = DateTimeLocalField(
        "Time of the visit",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired("Enter the time of the visit."), SaneDate()],
        description="Now, unless you are entering a paper log (up to 30 days back).",
    )
    syringes_collected = _count_field("Used syringes collected")
    secondary_reach = _count_field(
        "People reached through this participant",
        title="People the participant will pass supplies on to",
    )
    save = SubmitField("Save visit")

    item_fields: list[tuple[SupplyItem, str, str | None]]

    def items_by_category(self):
        """(category, [(item, quantity field, reason field or None)]) in form order."""
        groups: dict[SupplyCategory, list] = {}
        for item, name, reason in self.item_fields:
            groups.setdefault(item.category, []).append(
                (item, self[name], self[reason] if reason else None)
            )
        return list(groups.items())

    def service_fields(self):
        """The service count fields in form order."""
        return [self[f"service_{service.value}"] for service in Service]

    follow_ups: list

    def referral_values(self) -> dict | None:
        """The referral made on this visit, if any, as keyword arguments for the service."""
        if "referral_category" not in self or not self.referral_category.data:
            return None
        return {
            "category": self.referral_category.data,
            "partner_id": self.referral_partner_id.data,
            "note": self.referral_note.data,
        }

    def follow_up_outcomes(self):
        """(follow-up, outcome) for each banner follow-up given an outcome on this visit."""
        return [
            (follow_up, self[f"follow_up_{follow_up.id}"].data)
            for follow_up in self.follow_ups
            if self[f"follow_up_{follow_up.id}"].data
        ]

    def follow_up_field(self, follow_up):
        """The outcome select of one banner follow-up."""
        return self[f"follow_up_{follow_up.id}"]

    def details(self, occurred_at_utc: dt.datetime) -> VisitDetails:
        """The form's values as a VisitDetails for the service."""
        items = []
        for item, name, reason_name in self.item_fields:
            quantity = self[name].data or 0
            if quantity:
                reason = self[reason_name].data if reason_name else None
                items.append(
                    ItemLine(item.id, quantity, NaloxoneReason(reason) if reason else None)
                )
        return VisitDetails(
            site_id=self.site_id.data,
            kind=VisitKind(self.kind.data),
            occurred_at=occurred_at_utc,
            items=tuple(items),
            services={s: self[f"service_{s.value}"].data or 0 for s in Service},
            syringes_collected=self.syringes_collected.data or 0,
            secondary_reach=self.secondary_reach.data or 0,
        )


def visit_form(
    catalogue: list[SupplyItem], sites, *, partners=None, follow_ups=(), **kwargs
) -> VisitFormBase:
    """A visit form with a quantity box per active item (and a reason for naloxone).

    With ``partners`` (a participant's visit) it also offers a referral; each open
    follow-up in ``follow_ups`` gets an outcome select, so the banner's answer is saved
    with the visit.
    """

    class VisitForm(VisitFormBase):
        pass

    if partners is not None:
        VisitForm.referral_category = SelectField(
            "Referral made today",
            choices=[SelectChoice("", "No referral")] + CATEGORY_CHOICES,
            default="",
        )
        VisitForm.referral_partner_id = SelectField(
            "Partner",
            coerce=optional_int,
            choices=partner_choices(partners),
            default="",
            render_kw={"data-partner-filter": "referral_category"},
        )
        VisitForm.referral_note = StringField(
            "Referral note",
            validators=[Optional(), Length(max=200)],
            description=NO_IDENTIFIERS,
            render_kw={"autocomplete": "off", "maxlength": 200},
        )
    for follow_up in follow_ups:
        setattr(
            VisitForm,
            f"follow_up_{follow_up.id}",
            SelectField(
                f"Outcome of: {follow_up.describe()}",
                choices=[SelectChoice("", "Not asked today")] + OUTCOME_CHOICES,
                default="",
            ),
        )

    fields = []
    for item in catalogue:
        name = f"item_{item.id}"
        setattr(VisitForm, name, _count_field(item.name, title=f"Number of {item.unit}s"))
        reason = None
        if item.category == SupplyCategory.NALOXONE:
            reason = f"reason_{item.id}"
            setattr(
                VisitForm,
                reason,
                SelectField(
                    f"Reason for {item.name}", choices=REASON_CHOICES, validators=[Optional()]
                ),
            )
        fields.append((item, name, reason))
    for service in Service:
        setattr(VisitForm, f"service_{service.value}", _count_field(service.label))
    form = VisitForm(**kwargs)
    form.item_fields = fields
    form.follow_ups = list(follow_ups)
    form.site_id.choices = [SelectChoice(str(site.id), site.name) for site in sites]
    if not form.submission_key.data:
        form.submission_key.data = secrets.token_urlsafe(24)
    return form


class VoidForm(FlaskForm):
    """Why a visit is voided."""

    reason = StringField(
        "Reason for voiding",
        validators=[DataRequired("Say why the visit is voided."), Length(min=3, max=200)],
        description="For example: entered twice, wrong participant. No names.",
        render_kw={"autocomplete": "off", "maxlength": 200},
    )
    submit = SubmitField("Void visit")
