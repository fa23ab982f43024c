"""Admin > Import a spreadsheet (managers and admins; also linked from Reports): upload
a spreadsheet, map its columns, preview, import, follow the progress, undo a batch."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ssp.database import reads_first, start_writing
from ssp.extensions import db
from ssp.forms import show_rule_error
from ssp.i18n import _, format_moment, format_number, ngettext
from ssp.imports import jobs, services
from ssp.imports.forms import (
    UNIT_CHOICES,
    ConfirmImportForm,
    MappingForm,
    UndoForm,
    UploadForm,
    column_fields,
)
from ssp.imports.mapping import IGNORE, Column, Mapping, describe, field_choices
from ssp.imports.models import ImportBatch, ImportMapping, ImportShape, ImportUpload
from ssp.imports.reading import FileProblem, read_file, sha256_of
from ssp.imports.writer import Choices, ImportRefused, undo_batch
from ssp.participants.models import Participant, ParticipantAlias
from ssp.security import Role, role_required
from ssp.staff.models import Site
from ssp.textinput import has_refused_characters

bp = Blueprint("imports", __name__, url_prefix="/admin/imports")

MANAGERS = (Role.MANAGER, Role.ADMIN)
SAMPLE_ROWS = 3


def takes_files(view):
    """Mark a view that takes an uploaded file (every other page refuses one)."""
    view.takes_files = True
    return view


def _upload_form() -> UploadForm:
    form = UploadForm()
    form.mapping.choices = [SelectChoice("", _("None: propose one from the headers"))] + [
        SelectChoice(saved.id, f"{saved.name} ({saved.shape.short_label})")
        for saved in services.saved_mappings()
    ]
    return form


@bp.get("/")
@role_required(*MANAGERS)
def index():
    """The upload form, the imports so far and the saved mappings."""
    return _index_page(_upload_form())


def _index_page(form: UploadForm, status: int = 200):
    return render_template(
        "imports/index.html",
        form=form,
        batches=services.batches(),
        mappings=services.saved_mappings(),
    ), status


@bp.post("/")
@role_required(*MANAGERS)
@takes_files
@reads_first
def upload():
    """Keep the uploaded file and go on to its mapping."""
    form = _upload_form()
    if not form.validate_on_submit():
        return _index_page(form, 422)
    storage = form.file.data
    file_name = (storage.filename or "upload").rsplit("/", 1)[-1][:255]
    if has_refused_characters(file_name):
        file_name = "upload" + (".xlsx" if file_name.lower().endswith(".xlsx") else ".csv")
    content = storage.read()
    try:
        sheet = read_file(file_name, content)
    except FileProblem as problem:
        form.file.errors = [str(problem)]
        return _index_page(form, 422)
    saved = db.session.get(ImportMapping, form.mapping.data) if form.mapping.data else None
    shape = saved.shape if saved else ImportShape(form.shape.data)
    loaded = services.LoadedFile(file_name, sha256_of(content), sheet)
    mapping = services.mapping_for(loaded, shape, saved)
    mapping.shape = shape
    start_writing()
    services.forget_old_uploads()
    upload = ImportUpload(
        file_name=file_name,
        sha256=loaded.sha256,
        content=content,
        user_id=current_user.id,
        spec=mapping.as_spec(),
        mapping_name=saved.name if saved else None,
    )
    db.session.add(upload)
    db.session.commit()
    return redirect(url_for("imports.mapping", upload_id=upload.id))


def _own_upload(upload_id: int) -> ImportUpload:
    upload = db.session.get(ImportUpload, upload_id)
    if upload is None:
        abort(404)
    return upload


def _mapping_form(upload: ImportUpload, mapping: Mapping) -> MappingForm:
    form = MappingForm()
    form.site_id.choices = [SelectChoice("", _("None: a column names the site"))] + [
        SelectChoice(site.id, site.name)
        for site in db.session.scalars(select(Site).order_by(Site.active.desc(), Site.name))
    ]
    if request.method == "GET":
        form.site_id.data = mapping.site_id
        form.date_order.data = mapping.date_order
        form.save_as.data = upload.mapping_name or ""
    return form


@bp.route("/uploads/<int:upload_id>/mapping", methods=["GET", "POST"])
@role_required(*MANAGERS)
@reads_first
def mapping(upload_id: int):
    """Choose the field of each column; then start the preview."""
    upload = _own_upload(upload_id)
    if jobs.running(upload.id):
        return redirect(url_for("imports.show_upload", upload_id=upload.id))
    sheet = read_file(upload.file_name, upload.content)
    current = Mapping.from_spec(upload.spec).fitted_to(sheet.headers)
    form = _mapping_form(upload, current)
    choices = field_choices()
    known = {value for value, _label in choices}
    columns = column_fields(form, sheet.headers, choices, current)
    column_errors: dict[int, str] = {}
    if form.validate_on_submit():
        chosen: dict[str, Column] = {}
        for index, header, _field_name, field_value, _unit_name, unit_value in columns:
            if field_value not in known or not field_value:
                column_errors[index] = _("Choose what this column holds, or leave it out.")
            chosen[header] = Column(
                field_value or None, unit_value if unit_value in ("units", "packs") else "units"
            )
        mapping = Mapping(current.shape, chosen, form.site_id.data, form.date_order.data)
        if not column_errors:
            start_writing()
            upload = _own_upload(upload_id)
            upload.spec = mapping.as_spec()
            upload.preview = None
            if form.save_as.data:
                try:
                    saved = services.save_mapping(form.save_as.data, mapping, current_user)
                except ImportRefused as error:
                    db.session.rollback()
                    show_rule_error(form, ImportRefused(str(error), "save_as"))
                    return _mapping_page(upload, sheet, form, columns, choices, column_errors), 422
                upload.mapping_name = saved.name
            db.session.commit()
            jobs.start(current_app._get_current_object(), "preview", upload.id, current_user.id)
            return redirect(url_for("imports.show_upload", upload_id=upload.id))
    status = 422 if request.method == "POST" else 200
    return _mapping_page(upload, sheet, form, columns, choices, column_errors), status


def _mapping_page(upload, sheet, form, columns, choices, column_errors):
    code_columns = {index for index, _h, _f, value, _u, _uv in columns if value == "code"}
    hidden = _("(not shown)")
    samples = [
        [hidden if index in code_columns else _sample(cell) for index, cell in enumerate(cells)]
        for _number, cells in sheet.rows[:SAMPLE_ROWS]
    ]
    # A code column the mapping has not recognised shows its codes: audited like any page.
    _load_enrolled({cell for row in samples for cell in row if cell != hidden})
    return render_template(
        "imports/mapping.html",
        upload=upload,
        form=form,
        columns=columns,
        choices=choices,
        unit_choices=UNIT_CHOICES,
        column_errors=column_errors,
        samples=samples,
        rows=len(sheet.rows),
        shape=ImportShape(upload.spec["shape"]),
    )


def _sample(cell) -> str:
    text = "" if cell is None else str(cell)
    return text[:40] + ("…" if len(text) > 40 else "")


@bp.get("/uploads/<int:upload_id>")
@role_required(*MANAGERS)
def show_upload(upload_id: int):
    """The progress of a preview or import, or the preview with the confirmation."""
    job = jobs.job_for(upload_id)  # a copy: the thread moves on while the page renders
    if job is not None and job.finished and job.batch_id is not None:
        return redirect(url_for("imports.show_batch", batch_id=job.batch_id))
    upload = _own_upload(upload_id)
    if job is not None and not job.finished:
        return render_template("imports/progress.html", upload=upload, job=job)
    problem = job.problem if job is not None else None
    if upload.preview is None:
        return render_template("imports/progress.html", upload=upload, job=None, problem=problem)
    preview = upload.preview
    _note_codes_shown(preview)
    mapping = Mapping.from_spec(upload.spec)
    return render_template(
        "imports/preview.html",
        upload=upload,
        preview=preview,
        mapping=mapping,
        describe=describe,
        month_label=_month_label,
        IGNORE=IGNORE,
        form=ConfirmImportForm(),
        problem=problem,
        earlier=_earlier_batch(upload),
    )


def _month_label(key: str) -> str:
    """A preview's month ("2025-03") as the reader writes it ("Mar 2025")."""
    try:
        return format_moment(dt.date(int(key[:4]), int(key[5:7]), 1), "month")
    except ValueError:
        return key


def _earlier_batch(upload: ImportUpload) -> ImportBatch | None:
    from ssp.imports.writer import already_imported_batch

    return already_imported_batch(upload.sha256)


def _note_codes_shown(preview: dict) -> None:
    """Load the enrolled participants a near-duplicate pair names, so the view is
    audited like any page that shows a participant's code."""
    _load_enrolled({code for pair in preview.get("near_duplicates", []) for code in pair})


def _load_enrolled(texts: set[str]) -> None:
    """Load the participants whose code (or alias) is among ``texts``: the page shows
    them, so the view audit records them (ssp.participants.view_audit)."""
    from ssp.participants.codes import chunked, normalise_code

    codes = {normalise_code(text) for text in texts if text}
    for batch in chunked(sorted(code for code in codes if code)):
        list(db.session.scalars(select(Participant).where(Participant.code.in_(batch))))
        list(db.session.scalars(select(ParticipantAlias).where(ParticipantAlias.code.in_(batch))))


@bp.post("/uploads/<int:upload_id>/import")
@role_required(*MANAGERS)
def start_import(upload_id: int):
    """Start writing the previewed file."""
    upload = _own_upload(upload_id)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    if upload.preview is None:
        flash(_("Preview the file before importing it."), "error")
        return redirect(url_for("imports.mapping", upload_id=upload.id))
    preview = upload.preview
    missing = []
    if preview["rows_refused"] and not form.leave_out_refused.data:
        missing.append(
            ngettext(
                "%(rows)s row is refused: correct it in the file and upload it again, or tick "
                "“leave the refused ones out”.",
                "%(rows)s rows are refused: correct them in the file and upload it again, or "
                "tick “leave the refused ones out”.",
                preview["rows_refused"],
                rows=format_number(preview["rows_refused"]),
            )
        )
    if preview["near_duplicate_count"] and not form.near_duplicates_checked.data:
        missing.append(
            _("Check the near-duplicate codes, then tick that they are different people.")
        )
    if missing:
        for message in missing:
            flash(message, "error")
        return redirect(url_for("imports.show_upload", upload_id=upload.id))
    choices = Choices(
        move_stock=form.move_stock.data,
        leave_out_refused=form.leave_out_refused.data,
        near_duplicates_checked=form.near_duplicates_checked.data,
    )
    jobs.start(current_app._get_current_object(), "import", upload.id, current_user.id, choices)
    return redirect(url_for("imports.show_upload", upload_id=upload.id))


@bp.post("/uploads/<int:upload_id>/discard")
@role_required(*MANAGERS)
def discard(upload_id: int):
    """Set an uploaded file aside without importing it."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    if jobs.running(upload_id):
        flash(_("Wait for the file to finish before setting it aside."), "error")
        return redirect(url_for("imports.show_upload", upload_id=upload_id))
    upload = _own_upload(upload_id)
    db.session.delete(upload)
    db.session.commit()
    flash(_("The file was set aside: nothing was imported."), "success")
    return redirect(url_for("imports.index"))


@bp.route("/batches/<int:batch_id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def show_batch(batch_id: int):
    """What a batch added, and its undo."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    form = UndoForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if not form.confirm.data:
            form.confirm.errors = [_("Tick the box to confirm.")]
            return render_template("imports/batch.html", batch=batch, form=form), 422
        try:
            result = undo_batch(batch, current_user)
        except ImportRefused as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("imports.show_batch", batch_id=batch_id))
        db.session.commit()
        flash(
            _(
                "Import %(batch)s undone: %(visits)s and %(participants)s removed.",
                batch=batch_id,
                visits=ngettext(
                    "%(count)s visit",
                    "%(count)s visits",
                    result.visits,
                    count=format_number(result.visits),
                ),
                participants=ngettext(
                    "%(count)s participant",
                    "%(count)s participants",
                    result.participants,
                    count=format_number(result.participants),
                ),
            ),
            "success",
        )
        return redirect(url_for("imports.show_batch", batch_id=batch_id))
    return render_template("imports/batch.html", batch=batch, form=form)
