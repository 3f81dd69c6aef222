"""Absolute links the API and notices hand out, built from configuration, never from the Host header.

A request's Host header is whatever the client sent: `url_for(..., _external=True)` would put
`Host: evil.example` into every link of the answer (and into any cache in front of us). PUBLIC_BASE_URL
(or Flask's SERVER_NAME with PREFERRED_URL_SCHEME) names the site once.
"""
from __future__ import annotations

from urllib.parse import urljoin

from flask import current_app, url_for


def public_base_url() -> str:
    """The site's scheme and host, e.g. https://tastemaker.example (no trailing slash)."""
    config = current_app.config
    if config.get("PUBLIC_BASE_URL"):
        return config["PUBLIC_BASE_URL"].rstrip("/")
    if config.get("SERVER_NAME"):
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}"
    return "http://localhost:5000"


def absolute_url(url: str) -> str:
    """A path on this site ("/p/3") as an absolute URL; an absolute URL is returned unchanged."""
    return urljoin(public_base_url() + "/", url)


def external_url_for(endpoint: str, **values) -> str:
    """`url_for` as an absolute URL on the configured public address."""
    return absolute_url(url_for(endpoint, **values))
