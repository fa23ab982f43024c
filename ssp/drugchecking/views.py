"""Drug checking: record a sample's result (everyone at the desk or on outreach), what is
rising (managers), the program's lists (admins)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from ssp.database import reads_first, start_writing
from ssp.drugchecking import services, trends
from ssp.drugchecking.forms import OUTCOME_CHOICES, ResultForm, SoldAsForm, TestForm, TrendsForm
from ssp.drugchecking.models import CheckTest, DrugCheck, SoldAs
from ssp.extensions import db
from ssp.forms import ConfirmForm, parse_id, posted_ids, require_confirmed_post, save
from ssp.i18n import _, ngettext
from ssp.security import Role, role_required
from ssp.staff.models import Site

bp = Blueprint("drugchecking", __name__, url_prefix="/drug-checking")

EVERYONE = (Role.FRONT_DESK, Role.MANAGER, Role.ADMIN)
MANAGERS = (Role.MANAGER, Role.ADMIN)


def _outcome_fields(form: ResultForm, tests: list[CheckTest]) -> list[tuple[CheckTest, object]]:
    """A bound select per test the program runs, named test_<id>."""
    fields = []
    for test in tests:
        name = f"test_{test.id}"
        field = SelectField(test.name, choices=OUTCOME_CHOICES, default="").bind(form, name)
        field.process(request.form if request.method == "POST" else None)
        fields.append((test, field))
    return fields


def _result_form(tests: list[CheckTest]) -> ResultForm:
    from ssp.outreach.models import Zone

    form = ResultForm()
    form.sold_as_id.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(entry.id, entry.name) for entry in services.sold_as_list()
    ]
    sites = db.session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name))
    form.site_id.choices = [SelectChoice("", _("None (an outreach zone)"))] + [
        SelectChoice(site.id, site.name) for site in sites
    ]
    zones = db.session.scalars(select(Zone).where(Zone.active.is_(True)).order_by(Zone.name))
    form.zone_id.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(zone.id, zone.name) for zone in zones
    ]
    if request.method == "GET":
        form.new_key()
        form.site_id.data = parse_id(request.args.get("site")) or current_user.site_id
    return form


@bp.route("/new", methods=["GET", "POST"])
@role_required(*EVERYONE)
@reads_first
def new_result():
    """Record what the tests found in one sample."""
    tests = services.tests_list()
    if not tests or not services.sold_as_list():
        return render_template("drugchecking/no_lists.html"), 409
    form = _result_form(tests)
    outcome_fields = _outcome_fields(form, tests)
    visit_id = parse_id(request.args.get("visit"))
    if form.validate_on_submit():
        key = form.submission_key.data or None
        if key and services.check_by_submission_key(key):
            flash(_("That result was already saved."), "success")
            return redirect(url_for("drugchecking.new_result"))
        outcomes = {test.id: field.data for test, field in outcome_fields}
        # A test retired while the form was open still counts as asked: the service
        # refuses it rather than the result being saved without that finding.
        outcomes |= {
            test_id: request.form[f"test_{test_id}"]
            for test_id in posted_ids(request.form, "test_")
            if test_id not in outcomes and request.form.get(f"test_{test_id}")
        }
        details = services.CheckDetails(
            sold_as_id=form.sold_as_id.data,
            form=form.form.data,
            outcomes=outcomes,
            reaction=form.reaction.data,
            site_id=form.site_id.data,
            zone_id=form.zone_id.data,
            visit_id=visit_id,
        )
        start_writing()
        try:
            saved = save(
                form,
                lambda: services.record_check(details, current_user, submission_key=key),
                _saved_message,
            )
        except IntegrityError:  # the same form, sent twice at once: the other one saved it
            db.session.rollback()
            flash(_("That result was already saved."), "success")
            return redirect(url_for("drugchecking.new_result"))
        if saved:
            return redirect(url_for("drugchecking.new_result", site=form.site_id.data or ""))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "drugchecking/new.html", form=form, outcome_fields=outcome_fields, visit_id=visit_id
    ), status


def _saved_message(check: DrugCheck) -> str:
    positives = [f.test.finds.lower() for f in check.findings if f.outcome.value == "positive"]
    sold_as = check.sold_as.name.lower()
    if not positives:
        return _(
            "Result saved: sold as %(sold_as)s, nothing positive. Ready for the next sample.",
            sold_as=sold_as,
        )
    return _(
        "Result saved: sold as %(sold_as)s, positive for %(found)s. Ready for the next sample.",
        sold_as=sold_as,
        found=", ".join(positives),
    )


@bp.get("/")
@role_required(*MANAGERS)
def trends_page():
    """Signals, results per week or month, and the latest results."""
    form = TrendsForm(request.args)
    kind = form.by.data if form.by.data in ("week", "month") else "week"
    periods, lines = trends.table(kind, 8)
    return render_template(
        "drugchecking/trends.html",
        form=form,
        kind=kind,
        periods=periods,
        lines=lines,
        signals=trends.signals(),
        recent=services.recent_checks(30),
        confirm=ConfirmForm(),
        rule=_rule_words(),
        can_draft="alerts.new_alert" in current_app.view_functions,
    )


def _rule_words() -> str:
    config = current_app.config
    days = config["DRUG_CHECK_SIGNAL_DAYS"]
    return ngettext(
        "A finding is a signal when, over the last %(days)d days, at least %(num)d sample "
        "sold as one thing tested positive for it and its share of the samples tested rose "
        "by at least %(points)d percentage points against the %(days_before)d days before.",
        "A finding is a signal when, over the last %(days)d days, at least %(num)d samples "
        "sold as one thing tested positive for it and its share of the samples tested rose "
        "by at least %(points)d percentage points against the %(days_before)d days before.",
        config["DRUG_CHECK_SIGNAL_MIN_POSITIVES"],
        days=days,
        points=round(config["DRUG_CHECK_SIGNAL_RISE"] * 100),
        days_before=4 * days,
    )


@bp.post("/results/<int:check_id>/void")
@role_required(*MANAGERS)
def void_result(check_id: int):
    """Take a result entered by mistake out of every count."""
    require_confirmed_post()
    check = db.session.get(DrugCheck, check_id)
    if check is None:
        abort(404)
    try:
        services.void_check(check, current_user)
    except services.DrugCheckError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("The result was taken out of every count."), "success")
    return redirect(url_for("drugchecking.trends_page"))


# --- the program's lists (admins) ---------------------------------------------------------


@bp.get("/lists")
@role_required(Role.ADMIN)
def lists():
    """What samples can be sold as, and the tests run."""
    return _lists_page(SoldAsForm(prefix="sold"), TestForm(prefix="test"))


def _lists_page(sold_form: SoldAsForm, test_form: TestForm, status: int = 200):
    return render_template(
        "drugchecking/lists.html",
        sold_as=services.sold_as_list(active_only=False),
        tests=services.tests_list(active_only=False),
        sold_form=sold_form,
        test_form=test_form,
        confirm=ConfirmForm(),
    ), status


@bp.post("/lists/sold-as")
@role_required(Role.ADMIN)
def add_sold_as():
    """Add to what samples can be sold as."""
    form = SoldAsForm(prefix="sold")
    if form.validate_on_submit() and save(
        form, lambda: services.add_sold_as(form.name.data, current_user), _("Added.")
    ):
        return redirect(url_for("drugchecking.lists"))
    return _lists_page(form, TestForm(prefix="test"), 422)


@bp.post("/lists/tests")
@role_required(Role.ADMIN)
def add_test():
    """Add a test the program runs."""
    form = TestForm(prefix="test")
    if form.validate_on_submit() and save(
        form,
        lambda: services.add_test(form.name.data, form.finds.data, current_user),
        _("Added."),
    ):
        return redirect(url_for("drugchecking.lists"))
    return _lists_page(SoldAsForm(prefix="sold"), form, 422)


@bp.post("/lists/<kind>/<int:entry_id>/toggle")
@role_required(Role.ADMIN)
def toggle(kind: str, entry_id: int):
    """Retire an entry (past results keep it) or bring it back. The form says which, so a
    second click does the same again, not the opposite."""
    require_confirmed_post()
    model = {"sold-as": SoldAs, "tests": CheckTest}.get(kind)
    entry = db.session.get(model, entry_id) if model else None
    if entry is None:
        abort(404)
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        abort(400)
    if entry.active != (wanted == "1"):
        services.set_active(entry, wanted == "1", current_user)
    db.session.commit()
    if entry.active:
        flash(_("%(name)s: in use.", name=entry.name), "success")
    else:
        flash(_("%(name)s: retired.", name=entry.name), "success")
    return redirect(url_for("drugchecking.lists"))


@bp.post("/lists/defaults")
@role_required(Role.ADMIN)
def load_defaults():
    """Fill empty lists with the defaults."""
    require_confirmed_post()
    added = services.load_default_lists()
    db.session.commit()
    if added:
        flash(ngettext("Added %(num)d entry.", "Added %(num)d entries.", added), "success")
    else:
        flash(_("The lists were not empty."), "success")
    return redirect(url_for("drugchecking.lists"))
