"""Refusals raised by the services, and the error pages every route shares."""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: ("Something in that request was not right", "Go back, reload the page and try again."),
    401: ("Please sign in", "Your session has ended or you are not signed in."),
    403: (
        "Not open to your role",
        "Your account cannot use this page. Ask an administrator if you need it.",
    ),
    404: ("Page not found", "The page or record you asked for is not here."),
    405: ("That action is not possible here", "Go back and use the page's buttons."),
    413: ("That upload is too large", "Send something smaller."),
    422: ("Some fields need attention", "Check the form and try again."),
    429: ("Too many attempts", "Wait a minute, then try again."),
    500: (
        "Something went wrong on our side",
        "Nothing you did caused this. Your last saved "
        "work is safe; try again, and tell an administrator if it keeps happening.",
    ),
}


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
    title, hint = MESSAGES.get(code, (error.name, error.description))
    if error.description and error.description != type(error).description:
        hint = error.description  # a message written for this refusal
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
