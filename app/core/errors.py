"""Domain errors and the one place that turns any error into an HTML page or an RFC 9457 problem."""
from __future__ import annotations

import logging

from flask import Flask, Response, json, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from app.core.field_messages import translate_field_errors

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"


class DomainError(Exception):
    """A rule refused the change; `message` is safe to show to the user.

    `code` is the stable, machine-readable reason (kebab-case, never translated) that API clients branch on:
    each class has a default, and a raise site gives its own where a client would act differently on it
    (`Conflict(msg, code="out-of-stock")`). Codes are part of the API: never rename one.
    """

    status = 400
    code = "invalid"

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, *, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.errors = errors or {}
        if code is not None:
            self.code = code

    @property
    def summary(self) -> str:
        """Every field's message in one line (for a flash), else the overall message."""
        return " ".join(m for messages in self.errors.values() for m in messages) or self.message


class Invalid(DomainError):
    status = 422
    code = "validation-error"


class NotFound(DomainError):
    status = 404
    code = "not-found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class RateLimited(DomainError):
    """Too many of these writes lately (a service-level limit, counted in the database)."""

    status = 429
    code = "rate-limited"


class Busy(DomainError):
    """The server is saturated (e.g. every image worker is taken); the same request may succeed later."""

    status = 503
    code = "busy"

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, retry_after: int = 30, *,
                 code: str | None = None):
        super().__init__(message, errors, code=code)
        self.retry_after = retry_after


# Titles of the error pages, translated at render time.
ERROR_TITLES = {
    400: _l("Bad request"),
    401: _l("Please log in"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Upload too large"),
    415: _l("Unsupported content type"),
    422: _l("Check what you entered"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Service unavailable"),
}
ERROR_EXPLANATIONS = {
    400: _l("The request could not be understood. Go back and try again."),
    401: _l("You need to log in to see this."),
    403: _l("You do not have permission to do this."),
    404: _l("We could not find that page. It may have been moved or removed."),
    405: _l("This address does not accept that kind of request."),
    409: _l("This conflicts with the current state. Reload and try again."),
    413: _l("The file you sent is larger than we accept. Choose a smaller one."),
    415: _l("This address does not accept that kind of content."),
    422: _l("Some of what you entered is not valid."),
    429: _l("You are doing that too often. Wait a minute and try again."),
    500: _l("An unexpected error happened on our side. It has been logged; please try again later."),
    503: _l("The service is temporarily unavailable. Please try again later."),
}


# The code of a problem no domain rule named (a route that does not exist, a rate limit, a crash).
HTTP_PROBLEM_CODES = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
    409: "conflict", 413: "payload-too-large", 415: "unsupported-media-type", 422: "validation-error",
    429: "rate-limited", 500: "internal-error", 503: "unavailable",
}


def wants_problem_json() -> bool:
    """API paths, and clients that ask for JSON, get problem+json instead of an HTML page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_MIMETYPE])
    return best in ("application/json", PROBLEM_MIMETYPE) and not request.accept_mimetypes.accept_html


class ProblemSchema(Schema):
    """What `problem_response` sends, as the OpenAPI document declares every API error (RFC 9457)."""

    class Meta:
        unknown = INCLUDE  # RFC 9457 allows extension members

    type = fields.String(required=True, metadata={"description": "urn:tastemaker:problem:<code>."})
    code = fields.String(required=True, metadata={
        "description": "Why the request was refused, as a stable machine-readable code that is never translated "
                       "(e.g. out-of-stock, hold-limit-reached, coupon-invalid, not-your-order, already-paid, "
                       "validation-error, not-found, rate-limited). Branch on this, not on `detail` or `title`.",
        "example": "out-of-stock"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(required=True, metadata={"description": "The path that was requested."})
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(),
                         metadata={"description": "Messages per field, when the input was not valid."})


def problem_response(status: int, detail: str | None = None, *, code: str | None = None,
                     errors: dict | None = None, headers: dict | None = None) -> Response:
    """Build an RFC 9457 problem document."""
    title = str(ERROR_TITLES.get(status, "Error"))
    code = code or HTTP_PROBLEM_CODES.get(status, "error")
    body: dict = {
        "type": f"urn:tastemaker:problem:{code}",
        "code": code,
        "title": title,
        "status": status,
        "detail": detail or str(ERROR_EXPLANATIONS.get(status, title)),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def error_page(status: int, detail: str | None = None, headers: dict | None = None) -> Response:
    html = render_template(
        "errors/error.html",
        status=status,
        title=ERROR_TITLES.get(status, _("Error")),
        explanation=detail or ERROR_EXPLANATIONS.get(status, ""),
    )
    response = Response(html, status=status, mimetype="text/html")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _webargs_errors(exc: HTTPException) -> dict | None:
    """flask-smorest/webargs attach per-field messages to the exception's data."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if not messages:
        return None
    # webargs nests by location ({"json": {"field": [...]}}); flatten to {"field": [...]}.
    flat: dict = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            flat.update(location_errors)
        else:
            flat.setdefault("_schema", []).extend(location_errors)
    return translate_field_errors(flat)


def _roll_back_session() -> None:
    """Undo whatever the failed request wrote before rendering anything: the error page reads the database
    too (the signed-in user, the menu), and a session left in a failed transaction would fail it as well."""
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (a broken connection must not stop the error response)
        log.warning("Rolling back after an error failed", exc_info=True)


DATABASE_RETRY_AFTER = 5  # seconds a client is asked to wait while the database is unreachable


def _forget_current_user() -> None:
    """Treat the request as anonymous from here on: loading the signed-in user needs the database, and the
    outage page (and the language chosen for it) must not try again."""
    from flask import g
    from flask_login import AnonymousUserMixin

    g._login_user = AnonymousUserMixin()


def register_error_handlers(app: Flask) -> None:
    """Route every error through one place: problem+json for the API, a translated page otherwise.

    Each handler rolls the session back first, so an error changes nothing and its page can still query.
    """

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else {}
        _roll_back_session()
        if wants_problem_json():
            if exc.status == 401:
                headers["WWW-Authenticate"] = "Bearer"
            return problem_response(exc.status, exc.message, code=exc.code, errors=exc.errors, headers=headers)
        return error_page(exc.status, exc.message, headers=headers)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        _roll_back_session()
        detail = _("Your form expired or was sent from elsewhere. Reload the page and try again.")
        if wants_problem_json():
            return problem_response(400, detail, code="csrf")
        return error_page(400, detail)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        _roll_back_session()
        status = exc.code or 500
        headers = dict(exc.get_headers()) if status in (405, 429) else {}
        headers.pop("Content-Type", None)
        # A limit declared with its own message (flask-limiter's error_message) says which limit was hit.
        limit_message = getattr(getattr(exc, "limit", None), "error_message", None) and exc.description
        if wants_problem_json():
            errors = _webargs_errors(exc)
            if errors is not None:
                status = 422 if status == 422 else 400
                return problem_response(status, _("Some fields are not valid."),
                                        code="validation-error", errors=errors)
            detail = limit_message or None
            if status == 400 and exc.description and "JSON" in exc.description:
                detail = _("The request body is not valid JSON.")
            elif status == 415:
                detail = _("Send the request body as JSON, with the header Content-Type: application/json.")
            return problem_response(status, detail, headers=headers)
        return error_page(status, limit_message or None, headers=headers)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(exc: Exception):
        """The database is down, restarting or unreachable: a fast 503 that asks the client to come back, not a
        500 traceback. The pool checks connections before use (pool_pre_ping), so the first request after the
        database returns succeeds again with no restart."""
        log.warning("Database unavailable on %s %s: %s", request.method, request.path, str(exc).splitlines()[0])
        _roll_back_session()
        _forget_current_user()
        detail = _("The database is not answering right now. Please try again in a few seconds.")
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
        if wants_problem_json():
            return problem_response(503, detail, code="database-unavailable", headers=headers)
        try:
            html = render_template("errors/unavailable.html", status=503, title=ERROR_TITLES[503],
                                   explanation=detail, retry_after=DATABASE_RETRY_AFTER)
        except Exception:  # noqa: BLE001  (answer without the template rather than fail the 503 itself)
            log.exception("The unavailable page failed on %s %s", request.method, request.path)
            html = str(detail)
        return Response(html, status=503, mimetype="text/html", headers=headers)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        _roll_back_session()
        if wants_problem_json():
            return problem_response(500)
        try:
            return error_page(500)
        except Exception:  # noqa: BLE001  (the page itself failed: answer without the template)
            log.exception("The error page failed on %s %s", request.method, request.path)
            return Response(str(ERROR_EXPLANATIONS[500]), status=500, mimetype="text/plain")
