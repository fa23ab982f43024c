"""Community alerts: the list, drafting (by hand or from a signal), changing a draft, the
alert's page (approve, withdraw, the flyer, the text to copy), and the desk's banner.

Managers and administrators draft, approve and withdraw; the front desk opens an
approved alert's page and its flyer from the banner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ssp.drugchecking import alerts, services, trends
from ssp.drugchecking.alert_forms import AlertForm
from ssp.drugchecking.alerts import AlertChanged, AlertError, AlertNamesSomeone
from ssp.drugchecking.models import Alert, AlertStatus
from ssp.extensions import db
from ssp.forms import ConfirmForm, save
from ssp.i18n import _, available_languages, current_language, language_choices
from ssp.security import Role, role_required
from ssp.staff.models import Site, User

alerts_bp = Blueprint("alerts", __name__, url_prefix="/drug-checking/alerts")

MANAGERS = (Role.MANAGER, Role.ADMIN)
EVERYONE = (Role.FRONT_DESK, Role.MANAGER, Role.ADMIN)


def _me() -> User:
    return current_user._get_current_object()


def _status() -> int:
    return 422 if request.method == "POST" else 200


# --- the banner in the header ----------------------------------------------------------------


@dataclass(frozen=True)
class BannerAlert:
    """A current alert as the header shows it."""

    alert_id: int
    text: str


def _current_drug_alerts() -> list[BannerAlert]:
    """The current alerts, read once a request; none when signed out or when the
    database cannot say (an error page still renders)."""
    if not current_user or not current_user.is_authenticated:
        return []
    if "current_drug_alerts" not in g:
        try:
            g.current_drug_alerts = [
                BannerAlert(alert.id, alerts.banner_text(alert))
                for alert in alerts.current_alerts()
            ]
        except SQLAlchemyError:
            g.current_drug_alerts = []
    return g.current_drug_alerts


@alerts_bp.app_context_processor
def _templates_show_drug_alerts() -> dict[str, Any]:
    return {"current_drug_alerts": _current_drug_alerts}


# --- pages -------------------------------------------------------------------------------------


def _alert_or_404(alert_id: int) -> Alert:
    alert = db.get_or_404(Alert, alert_id)
    if alert.status == AlertStatus.DRAFT and current_user.role not in MANAGERS:
        abort(404)  # the front desk sees an alert once it is approved
    return alert


def _saved(form: AlertForm, change: Callable[[], Alert], message: str) -> Alert | None:
    """``save()``, returning what the change made; an alert naming a participant's code
    is refused without showing it back: every box it was found in is emptied."""
    made: list[Alert] = []
    refused: list[AlertNamesSomeone] = []

    def run() -> Alert:
        try:
            made.append(change())
        except AlertNamesSomeone as error:
            refused.append(error)
            raise
        return made[-1]

    if not save(form, run, message):
        for error in refused:
            for field in error.fields:
                getattr(form, field).data = ""
        return None
    return made[-1]


def _hide_codes(form: AlertForm) -> None:
    """Empty every box that names a participant's code, whatever else refused the form
    (a control character is refused before the service sees the boxes)."""
    boxes = {name: getattr(form, name).data for name in ("found", "sold_as", "area")}
    for name in alerts.boxes_naming_codes(boxes):
        field = getattr(form, name)
        field.data = ""
        field.raw_data = []
        refusal = str(alerts.NAMES_SOMEONE)
        if refusal not in field.errors:
            field.errors = [*field.errors, refusal]


def _form_page(template_form: AlertForm, alert: Alert | None, signal: trends.Signal | None):
    if request.method == "POST":
        _hide_codes(template_form)
    return render_template(
        "drugchecking/alerts/form.html",
        form=template_form,
        alert=alert,
        signal=signal,
        found_names=sorted({test.finds for test in services.tests_list()}),
        sold_as_names=[entry.name for entry in services.sold_as_list()],
        area_names=_area_names(),
    )


def _area_names() -> list[str]:
    from sqlalchemy import select

    from ssp.outreach.models import Zone

    zones = db.session.scalars(select(Zone.name).where(Zone.active).order_by(Zone.name))
    sites = db.session.scalars(select(Site.name).where(Site.active).order_by(Site.name))
    return [alerts.all_areas(), *zones, *sites]


@alerts_bp.get("/")
@role_required(*MANAGERS)
def alert_list():
    """Drafts to approve, current alerts, past alerts, and the signals to draft from."""
    return render_template(
        "drugchecking/alerts/index.html",
        lists=alerts.alert_lists(),
        signals=trends.signals(),
        signal_key=alerts.signal_key,
    )


@alerts_bp.route("/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_alert():
    """Draft an alert by hand, or from a current signal (``?signal=<sold as>-<test>``)."""
    form = AlertForm()
    key = form.signal.data if request.method == "POST" else request.args.get("signal")
    signal = alerts.find_signal(key) if key else None
    if request.method == "GET":
        if key and signal is None:
            flash(_("That signal is no longer current: draft the alert by hand."), "error")
        form.fill(alerts.signal_values(signal) if signal else alerts.blank_values())
        form.signal.data = alerts.signal_key(signal) if signal else ""
    if form.validate_on_submit():
        values = alerts.signal_values(signal) if signal else None
        alert = _saved(
            form,
            lambda: alerts.draft_alert(
                _me(),
                **form.values(),
                test_id=values.test_id if values else None,
                signal=values.signal if values else None,
            ),
            _("Alert drafted. Another manager reads it and approves it; then it shows and prints."),
        )
        if alert is not None:
            return redirect(url_for("alerts.show_alert", alert_id=alert.id), 303)
    return _form_page(form, None, signal), _status()


@alerts_bp.route("/<int:alert_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_alert(alert_id: int):
    """Change a draft."""
    alert = db.get_or_404(Alert, alert_id)
    if alert.status != AlertStatus.DRAFT:
        flash(_("Only a draft can be changed: withdraw this alert and draft a new one."), "error")
        return redirect(url_for("alerts.show_alert", alert_id=alert.id), 303)
    form = AlertForm(obj=alert if request.method == "GET" else None)
    if form.validate_on_submit() and _saved(
        form,
        lambda: alerts.edit_draft(alert, _me(), **form.values()),
        _("Draft saved. Another manager approves it."),
    ):
        return redirect(url_for("alerts.show_alert", alert_id=alert.id), 303)
    return _form_page(form, alert, None), _status()


def _show_page(alert: Alert, error: str | None = None):
    me = _me()
    text = alerts.short_text(alert)
    printable = True
    try:
        alerts.check_printable(alert)
    except AlertError:
        printable = False
    current = alerts.is_current(alert)
    draft = alert.status == AlertStatus.DRAFT and alert.withdrawn_at is None
    return render_template(
        "drugchecking/alerts/show.html",
        alert=alert,
        headline=alerts.headline(alert),
        advice=alerts.advice_texts(alert.advice),
        text=text,
        text_max=alerts.TEXT_MAX,
        current=current,
        draft=draft,
        withdrawn=alert.withdrawn_at is not None or alert.status == AlertStatus.WITHDRAWN,
        offer_text=current or draft,  # a withdrawn or expired alert no longer goes out
        version=alerts.draft_version(alert),
        printable=printable,
        manager=me.role in MANAGERS,
        may_approve=alerts.may_approve(alert, me),
        author=me.id in alerts.authors(alert),
        error=error,
        confirm=ConfirmForm(),
        users={user.id: user.username for user in _people(alert)},
        signal_sentence=alerts.recorded_sentence(alert.signal),
        flyer_languages=language_choices(),
        flyer_language=current_language(),
    )


def _people(alert: Alert) -> list[User]:
    ids = {alert.drafted_by, alert.approved_by, alert.withdrawn_by} - {None}
    return [user for user in (db.session.get(User, user_id) for user_id in ids) if user]


@alerts_bp.get("/<int:alert_id>")
@role_required(*EVERYONE)
def show_alert(alert_id: int):
    """An alert: what it says, its text message, its flyer, and approve or withdraw."""
    return _show_page(_alert_or_404(alert_id))


def _act(alert_id: int, change: Callable[[Alert], Alert], message: str):
    alert = db.get_or_404(Alert, alert_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        change(alert)
    except AlertError as error:
        db.session.rollback()
        status = 409 if isinstance(error, AlertChanged) else 422
        return _show_page(db.get_or_404(Alert, alert_id), str(error)), status
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("alerts.show_alert", alert_id=alert_id), 303)


@alerts_bp.post("/<int:alert_id>/approve")
@role_required(*MANAGERS)
def approve_alert(alert_id: int):
    """A second manager approves the draft, as they read it (the form's ``version``)."""
    version = request.form.get("version", "")  # none: refused, the page is read first
    return _act(
        alert_id,
        lambda alert: alerts.approve(alert, _me(), version=version),
        _("Alert approved: it shows in the header and prints until it expires."),
    )


@alerts_bp.post("/<int:alert_id>/withdraw")
@role_required(*MANAGERS)
def withdraw_alert(alert_id: int):
    """Take the alert down (or drop a draft)."""
    return _act(
        alert_id,
        lambda alert: alerts.withdraw(alert, _me()),
        _("Alert withdrawn: it no longer shows or prints."),
    )


@alerts_bp.get("/<int:alert_id>/flyer.pdf")
@role_required(*EVERYONE)
def alert_flyer(alert_id: int):
    """The one-page flyer to print (approved, current alerts only), in the language chosen
    on the print form (``?language=es``; default: the page's); audited."""
    alert = _alert_or_404(alert_id)
    language = request.args.get("language") or current_language()
    if language not in available_languages():
        return _show_page(alert, _("Choose the flyer's language from the list.")), 422
    try:
        pdf = alerts.print_flyer(alert, _me(), language=language)
    except AlertError as error:
        db.session.rollback()
        return _show_page(db.get_or_404(Alert, alert_id), str(error)), 409
    db.session.commit()
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="drug-alert-{alert_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


__all__ = ["alerts_bp"]
