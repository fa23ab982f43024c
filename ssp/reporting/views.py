"""The Reports page (managers): preview, generate, download, the archive. Funder profiles
(admins)."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from ssp.extensions import db
from ssp.forms import ConfirmForm, require_confirmed_post, save
from ssp.i18n import _, language_choices, language_name, ngettext
from ssp.reporting import bp, funders, narratives, services
from ssp.reporting.archive import (
    ArchiveTampered,
    archived_reports,
    commit_or_remove,
    newest_ids,
    read_archived,
)
from ssp.reporting.csv_export import render_csv
from ssp.reporting.document import SEE_EACH_ROW, ReportDocument
from ssp.reporting.forms import (
    GenerateForm,
    NarrativeForm,
    ProfileForm,
    ReportForm,
    period_choices,
)
from ssp.reporting.html_export import render_html
from ssp.reporting.models import FunderProfile, Report
from ssp.reporting.periods import Month, parse_period
from ssp.reporting.services import ReportError
from ssp.reporting.wording import figure, written_in
from ssp.security import Role, role_required
from ssp.timeutil import program_today

MANAGERS = (Role.MANAGER, Role.ADMIN)


def _requested_period_text() -> str:
    """The period asked for (``month`` is its older name in links and bookmarks)."""
    return request.args.get("period") or request.args.get("month") or ""


def _choice_form() -> ReportForm:
    today = program_today()
    form = ReportForm(request.args)
    form.period.choices = period_choices(Month(today.year, today.month))
    form.period.data = _requested_period_text() or services.last_month().key
    form.funder.choices = [
        SelectChoice(p.name, _("%(funder)s (%(profile)s)", funder=p.funder_name, profile=p.name))
        for p in funders.active_profiles()
    ]
    if (not form.funder.data or form.funder.data == "None") and form.funder.choices:
        form.funder.data = form.funder.choices[0].value
    return form


@bp.get("/reports")
@role_required(*MANAGERS)
def index():
    """Pick a month and funder; the archive of generated reports."""
    form = _choice_form()
    return render_template(
        "reporting/index.html",
        form=form,
        reports=archived_reports(),
        newest=newest_ids(),
        confirm=ConfirmForm(),
    )


def _requested_document():
    try:
        settings = services.settings_for(services.find_profile(request.args.get("funder", "")))
        period = services.check_period(_requested_period_text(), settings.fiscal_year_start)
    except ReportError as error:
        abort(Response(render_template("reporting/error.html", message=str(error)), 400))
    return services.build_report(period, settings)


class _ReportWords:
    """What the preview prints of the report itself, in the report's language (the page
    around it is in the reader's)."""

    def __init__(self, document: ReportDocument) -> None:
        self.language = document.language
        with written_in(self.language):
            self.see_each_row = str(SEE_EACH_ROW)
            self.symbols_note = document.symbols_note()

    def figure(self, text: str) -> str:
        with written_in(self.language):
            return figure(text)

    def withheld(self, reason: str) -> str:
        with written_in(self.language):
            return _("Withheld. %(reason)s", reason=reason)


@bp.get("/reports/preview")
@role_required(*MANAGERS)
def preview():
    """The report's numbers as HTML, suppressed exactly as in the PDF."""
    document = _requested_document()
    generate = GenerateForm(
        formdata=None,
        period=document.period_key,
        funder=document.profile_name,
        request_key=secrets.token_urlsafe(24),
    )
    words = _ReportWords(document)
    return render_template(
        "reporting/preview.html",
        document=document,
        generate=generate,
        form=_choice_form(),
        figure=words.figure,
        withheld=words.withheld,
        see_each_row=words.see_each_row,
        symbols_note=words.symbols_note,
        document_language=language_name(document.language),
    )


@bp.get("/reports/preview.csv")
@role_required(*MANAGERS)
def preview_csv():
    """The same tables as CSV."""
    document = _requested_document()
    name = f"{document.period_key}_{document.profile_name}.csv"
    return Response(
        render_csv(document),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/reports/generate")
@role_required(*MANAGERS)
def generate():
    """Generate the PDF, archive it, and offer it for download."""
    form = GenerateForm()
    if not form.validate_on_submit():
        abort(400)
    key = form.request_key.data or None
    already = services.report_for_request(key)
    if already is not None:
        return _already_made(already)
    try:
        made = services.generate_report(
            period=form.period.data,
            funder=form.funder.data,
            user_id=current_user.id,
            request_key=key,
        )
    except ReportError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("reporting.index"), 303)
    except IntegrityError:
        db.session.rollback()  # the same form, pressed twice at once: made the first time
        already = services.report_for_request(key)
        if already is None:
            raise
        return _already_made(already)
    commit_or_remove(made.report)
    flash(
        _(
            "Report for %(period)s archived as %(file)s.",
            # in the reader's language (the report itself may be in its funder's)
            period=parse_period(made.document.period_key).label,
            file=Path(made.report.path).name,
        ),
        "success",
    )
    return redirect(url_for("reporting.index", highlight=made.report.id), 303)


def _already_made(report: Report):
    flash(
        _("This report was already archived as %(file)s.", file=Path(report.path).name),
        "success",
    )
    return redirect(url_for("reporting.index", highlight=report.id), 303)


@bp.route("/reports/narrative/<period_key>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def narrative(period_key: str):
    """Write the period's narrative; back to the preview it was opened from."""
    try:
        period = parse_period(period_key)
    except ValueError as error:
        abort(Response(render_template("reporting/error.html", message=str(error)), 400))
    existing = narratives.narrative_for(period.key)
    form = NarrativeForm(obj=existing if request.method == "GET" else None)
    funder = request.args.get("funder", "")
    if form.validate_on_submit() and save(
        form,
        lambda: narratives.save_narrative(
            period.key,
            user_id=current_user.id,
            activities=form.activities.data,
            barriers=form.barriers.data,
            events=form.events.data,
        ),
        _("Narrative for %(period)s saved.", period=period.label),
    ):
        if funders.profile_by_name(funder) is not None:
            return redirect(url_for("reporting.preview", period=period.key, funder=funder), 303)
        return redirect(url_for("reporting.index"), 303)
    return render_template("reporting/narrative.html", form=form, period=period, funder=funder), (
        422 if request.method == "POST" else 200
    )


@bp.get("/reports/<int:report_id>/download")
@role_required(*MANAGERS)
def download(report_id: int):
    """The archived PDF, exactly as generated (checked against its sha256)."""
    report = db.get_or_404(Report, report_id)
    try:
        data = read_archived(report)
    except FileNotFoundError:
        abort(404)
    except ArchiveTampered:
        abort(409)
    from ssp.audit import record

    record("report_downloaded", object_type="report", object_id=report.id)
    db.session.commit()
    name = Path(report.path).name
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/reports/preview.html")
@role_required(*MANAGERS)
def preview_html():
    """The same report as one self-contained, accessible HTML file (the PDF cannot be
    tagged for screen readers). Like the CSV, no second password: the preview shows the
    same figures."""
    document = _requested_document()
    name = f"{document.period_key}_{document.profile_name}.html"
    return Response(
        render_html(document),
        mimetype="text/html",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- funder profiles (admin) ----------------------------------------------------------


@bp.get("/admin/funder-profiles")
@role_required(Role.ADMIN)
def profiles():
    """Funder profiles."""
    rows = db.session.scalars(
        select(FunderProfile).order_by(FunderProfile.active.desc(), FunderProfile.name)
    ).all()
    return render_template(
        "reporting/profiles.html",
        profiles=rows,
        confirm=ConfirmForm(),
        section_titles=dict(funders.SECTIONS.items()),
        language_names=dict(language_choices()),
    )


@bp.post("/admin/funder-profiles/defaults")
@role_required(Role.ADMIN)
def profile_defaults():
    """Create the three standard profiles (when there are none)."""
    require_confirmed_post()
    added = funders.load_default_profiles()
    db.session.commit()
    flash(
        ngettext("%(num)d standard profile created.", "%(num)d standard profiles created.", added)
        if added
        else _("Profiles already exist."),
        "success",
    )
    return redirect(url_for("reporting.profiles"), 303)


def _profile_values(form: ProfileForm) -> dict:
    return {
        "name": form.name.data,
        "funder_name": form.funder_name.data,
        "grant_number": form.grant_number.data,
        "program_name": form.program_name.data,
        "sections": form.sections.data,
        "threshold": form.threshold.data,
        "fiscal_year_start": int(form.fiscal_year_start.data or 7),
        "contact": form.contact.data,
        "language": form.language.data or None,
    }


@bp.route("/admin/funder-profiles/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def profile_new():
    """Add a funder profile."""
    form = ProfileForm()
    if form.validate_on_submit() and save(
        form,
        lambda: funders.create_profile(**_profile_values(form)),
        lambda profile: _("Profile %(name)s created.", name=profile.name),
    ):
        return redirect(url_for("reporting.profiles"), 303)
    return render_template("reporting/profile_form.html", form=form, profile=None), (
        422 if request.method == "POST" else 200
    )


@bp.route("/admin/funder-profiles/<int:profile_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def profile_edit(profile_id: int):
    """Change a funder profile."""
    profile = db.get_or_404(FunderProfile, profile_id)
    form = ProfileForm(obj=profile if request.method == "GET" else None)
    if form.validate_on_submit() and save(
        form,
        lambda: funders.update_profile(profile, **_profile_values(form)),
        lambda _saved: _("Profile %(name)s saved.", name=profile.name),
    ):
        return redirect(url_for("reporting.profiles"), 303)
    return render_template("reporting/profile_form.html", form=form, profile=profile), (
        422 if request.method == "POST" else 200
    )


@bp.post("/admin/funder-profiles/<int:profile_id>/deactivate")
@role_required(Role.ADMIN)
def profile_deactivate(profile_id: int):
    """Stop offering a profile."""
    return _set_active(profile_id, False)


@bp.post("/admin/funder-profiles/<int:profile_id>/reactivate")
@role_required(Role.ADMIN)
def profile_reactivate(profile_id: int):
    """Offer a profile again."""
    return _set_active(profile_id, True)


def _set_active(profile_id: int, active: bool):
    require_confirmed_post()
    profile = db.get_or_404(FunderProfile, profile_id)
    funders.set_profile_active(profile, active)
    db.session.commit()
    flash(
        _("Profile %(name)s reactivated.", name=profile.name)
        if active
        else _("Profile %(name)s deactivated.", name=profile.name),
        "success",
    )
    return redirect(url_for("reporting.profiles"), 303)
