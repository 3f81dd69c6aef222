"""Security headers on every response, and no caching of what is personal."""
from flask import Flask, Response, g, request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
# Swagger UI sets style attributes from its scripts; scripts stay 'self' only.
API_DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def add_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        docs = request.path == "/api/v1/docs"
        response.headers.setdefault("Content-Security-Policy", API_DOCS_CSP if docs else CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if _is_personal(response):
            response.headers["Cache-Control"] = "no-store"
        return response


def _is_personal(response: Response) -> bool:
    """A response made for a signed-in user (session or token) that did not declare itself public.

    Orders, cart, settings, earnings, notifications — and every page with the reader's name in its header —
    must not stay in a shared proxy or in the browser's history cache after logout. Static files and
    uploaded media (public, content-addressed) keep their own caching.
    """
    if request.endpoint == "static" or "public" in (response.headers.get("Cache-Control") or ""):
        return False
    # flask-login keeps the request's user in g once anything asked for current_user; a response built
    # without asking (a static asset, a health check) is not personal, and no query is spent to find out.
    user = g.get("_login_user")
    return bool(user is not None and user.is_authenticated)
