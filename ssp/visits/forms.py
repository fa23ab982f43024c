"""The visit form, built per request from the active catalogue; and the void form."""

from __future__ import annotations

import datetime as dt
import functools
import secrets

from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ssp.forms import Form, SaneDate, SelectField, optional_int, record_id
from ssp.i18n import _l
from ssp.referrals.forms import (
    CATEGORY_CHOICES,
    NO_IDENTIFIERS,
    OUTCOME_CHOICES,
    partner_choices,
)
from ssp.referrals.models import FollowUpOutcome
from ssp.supplies.models import SupplyCategory, SupplyItem
from ssp.supplies.units import unit_for
from ssp.visits.layout import CORE_CATEGORIES
from ssp.visits.models import NaloxoneReason, Service, VisitKind
from ssp.visits.services import ItemLine, VisitDetails

KIND_CHOICES = [SelectChoice(k.value, k.lazy_label) for k in VisitKind]
REASON_CHOICES = [SelectChoice("", _l("Why this kit?"))] + [
    SelectChoice(r.value, r.lazy_label) for r in NaloxoneReason
]
WHOLE_NUMBER = _l("Enter a whole number, 0 or more.")
# The follow-up answers the keyboard hint names: typing an answer's first letter picks it.
OUTCOME_KEYS = (
    (FollowUpOutcome.LINKED, _l("linked")),
    (FollowUpOutcome.WAITING, _l("still waiting")),
    (FollowUpOutcome.DECLINED, _l("declined")),
    (FollowUpOutcome.UNREACHABLE, _l("could not reach")),
)


def _count_field(label, **render_kw) -> IntegerField:
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(min=0, message=WHOLE_NUMBER)],
        render_kw={"min": 0, "inputmode": "numeric", "autocomplete": "off", **render_kw},
    )


class VisitFormBase(Form):
    """The fixed part of the visit form; item fields are added per catalogue."""

    submission_key = HiddenField(validators=[Length(max=64)])
    site_id = SelectField(_l("Site"), coerce=record_id, choices=[])
    kind = SelectField(_l("How they were reached"), choices=KIND_CHOICES)
    occurred_at = DateTimeLocalField(
        _l("Time of the visit"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(_l("Enter the time of the visit.")), SaneDate()],
        description=_l("Now, unless you are entering a paper log (up to 30 days back)."),
    )
    syringes_collected = _count_field(_l("Used syringes collected"))
    secondary_reach = _count_field(
        _l("People reached through this participant"),
        title=_l("People the participant will pass supplies on to"),
    )
    save = SubmitField(_l("Save visit"))

    item_fields: list[tuple[SupplyItem, str, str | None]]

    def items_by_category(self):
        """(category, [(item, quantity field, reason field or None)]) in form order."""
        groups: dict[SupplyCategory, list] = {}
        for item, name, reason in self.item_fields:
            groups.setdefault(item.category, []).append(
                (item, self[name], self[reason] if reason else None)
            )
        return list(groups.items())

    def supply_sections(self, rarely_used=frozenset()):
        """The supplies in the order people work: ``core`` is [(category, rows)] for
        syringes, naloxone and test strips; ``tail`` is [(category, rows, folded)] for
        the rest, folded when ``rarely_used`` names it and none of its boxes holds a
        value or an error."""
        groups = dict(self.items_by_category())
        core = [(c, groups[c]) for c in CORE_CATEGORIES if c in groups]
        tail = []
        for category, rows in groups.items():
            if category in CORE_CATEGORIES:
                continue
            busy = any(
                quantity.data or quantity.errors or (reason and reason.errors)
                for _, quantity, reason in rows
            )
            tail.append((category, rows, category in rarely_used and not busy))
        return core, tail

    @staticmethod
    def collected_after(core) -> SupplyCategory | None:
        """The core category the "used syringes collected" box follows: naloxone when
        there is one (the reason box on a pre-filled form is then one Tab away), else the
        first; None when there are no core supplies (it then stands alone)."""
        categories = [category for category, _ in core]
        if SupplyCategory.NALOXONE in categories:
            return SupplyCategory.NALOXONE
        return categories[0] if categories else None

    def service_fields(self):
        """The service count fields in form order."""
        return [self[f"service_{service.value}"] for service in Service]

    follow_ups: list
    sites: list

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

    @staticmethod
    def outcome_keys() -> str:
        """The keys of the follow-up answers, "L linked, S still waiting, ...": each
        answer's first letter as its option reads in the page's language."""
        return ", ".join(f"{outcome.label[:1].upper()} {name}" for outcome, name in OUTCOME_KEYS)

    def follow_up_field(self, follow_up):
        """The outcome select of one banner follow-up."""
        return self[f"follow_up_{follow_up.id}"]

    def details(self, occurred_at_utc: dt.datetime) -> VisitDetails:
        """The form's values as a VisitDetails for the service. Also called on a form
        that failed its own checks (to show the visit's rules too): a value the form
        refused counts as absent here, never as an error of its own."""
        items = []
        for item, name, reason_name in self.item_fields:
            quantity = self[name].data or 0
            if quantity:
                reason = (
                    _enum_or_none(NaloxoneReason, self[reason_name].data) if reason_name else None
                )
                items.append(ItemLine(item.id, quantity, reason))
        return VisitDetails(
            site_id=self.site_id.data,
            kind=_enum_or_none(VisitKind, self.kind.data) or VisitKind.FIXED,
            occurred_at=occurred_at_utc,
            items=tuple(items),
            services={s: self[f"service_{s.value}"].data or 0 for s in Service},
            syringes_collected=self.syringes_collected.data or 0,
            secondary_reach=self.secondary_reach.data or 0,
        )


def _enum_or_none(kind, value):
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def visit_form(
    catalogue: list[SupplyItem], sites, *, partners=None, follow_ups=(), **kwargs
) -> VisitFormBase:
    """A visit form with a quantity box per active item (and a reason for naloxone).

    With ``partners`` (a participant's visit) it also offers a referral; each open
    follow-up in ``follow_ups`` gets an outcome select, so the banner's answer is saved
    with the visit.
    """
    item_fields = [
        (
            item,
            f"item_{item.id}",
            f"reason_{item.id}" if item.category == SupplyCategory.NALOXONE else None,
        )
        for item in catalogue
    ]
    form_class = _visit_form_class(
        tuple((item.id, item.name, item.unit, bool(reason)) for item, _, reason in item_fields),
        partners is not None,
        tuple((follow_up.id, follow_up.describe()) for follow_up in follow_ups),
    )
    form = form_class(**kwargs)
    form.item_fields = item_fields
    form.follow_ups = list(follow_ups)
    form.sites = list(sites)  # held, so the rule checks find the rows loaded
    form.site_id.choices = [SelectChoice(str(site.id), site.name) for site in form.sites]
    if partners is not None:
        form.referral_partner_id.choices = partner_choices(partners)
    if not form.submission_key.data:
        form.submission_key.data = secrets.token_urlsafe(24)
    return form


@functools.lru_cache(maxsize=128)
def _visit_form_class(
    items: tuple[tuple[int, str, str, bool], ...],
    with_referral: bool,
    follow_ups: tuple[tuple[int, str], ...],
) -> type[VisitFormBase]:
    """The form class for one catalogue (id, name, unit, is naloxone), with or without
    the referral fields, and one set of banner follow-ups (id, description).

    Building a form class is a third of the cost of a visit post, and the catalogue
    rarely changes, so classes are kept; each request still gets a fresh instance.
    """

    class VisitForm(VisitFormBase):
        pass

    if with_referral:
        VisitForm.referral_category = SelectField(
            _l("Referral made today"),
            choices=[SelectChoice("", _l("No referral"))] + CATEGORY_CHOICES,
            default="",
        )
        VisitForm.referral_partner_id = SelectField(
            _l("Partner"),
            coerce=optional_int,
            choices=[],  # the active partners, set on each instance
            default="",
            render_kw={"data-partner-filter": "referral_category"},
        )
        VisitForm.referral_note = StringField(
            _l("Referral note"),
            validators=[Optional(), Length(max=200)],
            description=NO_IDENTIFIERS,
            render_kw={"autocomplete": "off", "maxlength": 200},
        )
    for follow_up_id, description in follow_ups:
        setattr(
            VisitForm,
            f"follow_up_{follow_up_id}",
            SelectField(
                _l("Outcome of: %(follow_up)s", follow_up=description),
                choices=[SelectChoice("", _l("Not asked today"))] + OUTCOME_CHOICES,
                default="",
            ),
        )
    for item_id, name, unit, naloxone in items:
        title = _l("Number of %(units)s", units=unit_for(unit, 2))
        setattr(VisitForm, f"item_{item_id}", _count_field(name, title=title))
        if naloxone:
            setattr(
                VisitForm,
                f"reason_{item_id}",
                SelectField(
                    _l("Reason for %(item)s", item=name),
                    choices=REASON_CHOICES,
                    validators=[Optional()],
                ),
            )
    for service in Service:
        setattr(VisitForm, f"service_{service.value}", _count_field(service.lazy_label))
    return VisitForm


class VoidForm(Form):
    """Why a visit is voided."""

    reason = StringField(
        _l("Reason for voiding"),
        validators=[DataRequired(_l("Say why the visit is voided.")), Length(min=3, max=200)],
        description=_l("For example: entered twice, wrong participant. No names."),
        render_kw={"autocomplete": "off", "maxlength": 200},
    )
    submit = SubmitField(_l("Void visit"))
