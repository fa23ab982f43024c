"""Refusals raised by the services, and the error pages every route shares."""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from ssp.i18n import _


def N_(text: str) -> str:
    """Mark ``text`` for the catalogue; it is looked up when the page is made."""
    return text


MESSAGES = {
    400: (
        N_("Something in that request was not right"),
        N_("Go back, reload the page and try again."),
    ),
    401: (N_("Please sign in"), N_("Your session has ended or you are not signed in.")),
    403: (
        N_("Not open to your role"),
        N_("Your account cannot use this page. Ask an administrator if you need it."),
    ),
    404: (N_("Page not found"), N_("The page or record you asked for is not here.")),
    405: (N_("That action is not possible here"), N_("Go back and use the page's buttons.")),
    413: (N_("That upload is too large"), N_("Send something smaller.")),
    422: (N_("Some fields need attention"), N_("Check the form and try again.")),
    429: (N_("Too many attempts"), N_("Wait a minute, then try again.")),
    500: (
        N_("Something went wrong on our side"),
        N_(
            "Nothing you did caused this. Your last saved work is safe; try again, and tell "
            "an administrator if it keeps happening."
        ),
    ),
}


# What Flask-WTF's CSRF check says (flask_wtf/csrf.py, in English only), so that the
# catalogue holds these sentences and an error page can say them in the reader's language.
CSRF_SENTENCES = (
    N_("The CSRF token is missing."),
    N_("The CSRF session token is missing."),
    N_("The CSRF token has expired."),
    N_("The CSRF token is invalid."),
    N_("The CSRF tokens do not match."),
    N_("The referrer header is missing."),
    N_("The referrer does not match the host."),
)


class RuleError(ValueError):
    """A change the rules do not allow; ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _render(error: HTTPException):
    code = error.code or 500
    known = MESSAGES.get(code)
    title, hint = (_(known[0]), _(known[1])) if known else (error.name, error.description)
    # Flask-Limiter's description is its limit ("20 per 1 minute"), not words for people.
    written = code != 429 and error.description != type(error).description
    if error.description and written:
        hint = str(error.description)  # a message written (and translated) for this refusal
        if hint in CSRF_SENTENCES:
            hint = _(hint)
    if _wants_json():
        return {"error": title, "status": code}, code
    response = render_template("errors/error.html", code=code, title=title, hint=hint), code
    return response


def register_error_handlers(app: Flask) -> None:
    """Friendly pages (or JSON bodies) for HTTP errors, with no trace or SQL shown."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return _render(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        from ssp.extensions import db

        # A failed write leaves the session unusable; the error page must still render.
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(InternalServerError())
