"""Who is asking: the one place pages and API routes read the signed-in user from (imports no domain)."""
from __future__ import annotations

from flask_login import current_user


def current_viewer():
    """The signed-in user of this request (session or access token), or None for a visitor."""
    return current_user._get_current_object() if current_user.is_authenticated else None
