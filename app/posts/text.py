"""User text: Markdown rendered with markdown-it-py, linked #hashtags and @mentions, sanitized with nh3.

Raw HTML in the Markdown is never passed through (html=False), and the rendered HTML is sanitized again
with an allow-list, so `<script>`, `onerror=` and `javascript:` links cannot survive either way.
"""
from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import escape

HASHTAG_RE = re.compile(r"(?<![\w&/#])#([0-9A-Za-z_\u3400-\u4dbf\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7af]{1,40})")
MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9_]{3,30})\b")
ALLOWED_TAGS = {"p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h3",
                "h4", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "class"}}
URL_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).disable("image")


def hashtags(text: str) -> list[str]:
    """The distinct #hashtags in `text`, lower-cased, in order of first use."""
    seen: dict[str, None] = {}
    for match in HASHTAG_RE.finditer(text or ""):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def mentions(text: str) -> list[str]:
    """The distinct @usernames in `text`, lower-cased."""
    return sorted({match.group(1).lower() for match in MENTION_RE.finditer(text or "")})


def _link_words(html: str, known_users: set[str] | None) -> str:
    """Turn #tag and @name in text nodes (not inside tags, links or code) into links."""
    parts = re.split(r"(<[^>]+>)", html)
    depth_a = depth_code = 0
    for index, part in enumerate(parts):
        if part.startswith("<"):
            name = part[1:].split()[0].rstrip(">").lower() if len(part) > 2 else ""
            if name in ("a", "code", "pre"):
                depth_a += name == "a"
                depth_code += name in ("code", "pre")
            elif name in ("/a", "/code", "/pre"):
                depth_a -= name == "/a"
                depth_code -= name in ("/code", "/pre")
            continue
        if depth_a or depth_code or not part:
            continue
        part = HASHTAG_RE.sub(lambda m: f'<a class="hashtag" href="/t/{m.group(1).lower()}">#{m.group(1)}</a>', part)
        if known_users is not None:
            part = MENTION_RE.sub(
                lambda m: f'<a class="mention" href="/u/{m.group(1)}">@{m.group(1)}</a>'
                if m.group(1).lower() in known_users else m.group(0), part)
        parts[index] = part
    return "".join(parts)


def sanitize(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="nofollow noopener ugc")


def render_body(markdown: str, known_users: set[str] | None = None) -> str:
    """Markdown → safe HTML with hashtag links and (for names in `known_users`) mention links."""
    return sanitize(_link_words(_markdown.render(markdown or ""), known_users))


def render_plain(text: str, known_users: set[str] | None = None) -> str:
    """Plain text (comments) → safe HTML: escaped, line breaks kept, hashtags and mentions linked."""
    html = "<p>" + str(escape(text or "")).replace("\n", "<br>") + "</p>"
    return sanitize(_link_words(html, known_users))
