"""Previews and imports started on the page run in a thread of the server, so the page
can show a progress bar while 100,000 rows are checked and written.

A job's progress lives in this process (``ssp serve`` is one process with threads);
its outcome lives in the database: the preview on the upload, the batch with its
visits. A job lost with a restart leaves the upload as it was, to be started again.
A job speaks the language of the page that started it: the preview's refusals and a
problem are written in it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace

from flask import Flask

from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, current_language, force_locale
from ssp.imports import services
from ssp.imports.mapping import Mapping
from ssp.imports.models import ImportUpload
from ssp.imports.reading import FileProblem
from ssp.imports.writer import Choices
from ssp.staff.models import User

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One preview or import, as far as it has gone."""

    upload_id: int
    kind: str  # "preview" or "import"
    stage: str = "reading"  # then "checking", and "writing" for an import
    done: int = 0
    total: int = 0
    finished: bool = False
    problem: str | None = None
    batch_id: int | None = None

    @property
    def stage_label(self) -> str:
        """The stage as the page says it."""
        return {
            "reading": _("Reading the file"),
            "checking": _("Checking rows"),
            "writing": _("Writing visits"),
        }[self.stage]

    @property
    def percent(self) -> int:
        """How far the current stage has gone, 0 to 100."""
        return int(100 * self.done / self.total) if self.total else 0


_JOBS: dict[int, Job] = {}
_LOCK = threading.Lock()


def job_for(upload_id: int) -> Job | None:
    """A copy of the latest job of an upload in this process, if any (the page reads one
    consistent state while the thread goes on)."""
    with _LOCK:
        job = _JOBS.get(upload_id)
        return replace(job) if job is not None else None


def running(upload_id: int) -> bool:
    """Whether a job of this upload is still going."""
    job = job_for(upload_id)
    return job is not None and not job.finished


def start(app: Flask, kind: str, upload_id: int, user_id: int, choices: Choices | None = None):
    """Start a preview or an import of an upload; refuses a second while one runs."""
    with _LOCK:
        current = _JOBS.get(upload_id)
        if current is not None and not current.finished:
            return current
        job = _JOBS[upload_id] = Job(upload_id, kind)
    language = current_language()
    thread = threading.Thread(
        target=_run,
        args=(app, job, user_id, choices, language),
        name=f"ssp-import-{upload_id}",
        daemon=True,
    )
    thread.start()
    return job


def _run(app: Flask, job: Job, user_id: int, choices: Choices | None, language: str) -> None:
    with app.app_context(), force_locale(language):
        try:
            _work(job, user_id, choices)
        except (RuleError, FileProblem) as problem:
            db.session.rollback()
            job.problem = str(problem)
        except Exception:  # the page must say so, not keep a progress bar forever
            db.session.rollback()
            log.exception("import job for upload %s failed", job.upload_id)
            job.problem = _("The import stopped on an unexpected error: nothing was written.")
        finally:
            job.finished = True
            db.session.remove()


def _progress(job: Job, stage: str):
    def update(done: int, total: int) -> None:
        job.stage, job.done, job.total = stage, done, total

    return update


def _work(job: Job, user_id: int, choices: Choices | None) -> None:
    upload = db.session.get(ImportUpload, job.upload_id)
    if upload is None or upload.spec is None:
        raise FileProblem(_("This upload is no longer here: upload the file again."))
    loaded = services.load(upload.file_name, upload.content)
    mapping = Mapping.from_spec(upload.spec).fitted_to(loaded.sheet.headers)
    mapping_name = upload.mapping_name
    db.session.rollback()
    planned = services.plan(loaded, mapping, _progress(job, "checking"))
    if job.kind == "preview":
        upload = db.session.get(ImportUpload, job.upload_id)
        upload.preview = planned.summary()
        db.session.commit()
        return
    user = db.session.get(User, user_id)
    batch = services.write(
        planned,
        user,
        choices or Choices(),
        source="page",
        mapping_name=mapping_name,
        progress=_progress(job, "writing"),
    )
    job.batch_id = batch.id
    upload = db.session.get(ImportUpload, job.upload_id)
    if upload is not None:
        db.session.delete(upload)  # the file held codes: it goes once it is in
    services.forget_old_uploads()
    db.session.commit()
