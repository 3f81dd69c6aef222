"""Numbers and ids from strangers: ASCII digits only, ids within what every id column can hold.

`str.isdigit()` is true for "²", "①" and "١٢", and `int()` then fails (or silently reads Arabic-Indic
digits); an id of 2^63 overflows SQLite's INTEGER and 2^31 PostgreSQL's `integer`. Every route, schema and
form reads numbers through the helpers here, so none of that reaches `int()` or the database.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError as FieldError
from marshmallow import fields
from werkzeug.routing import IntegerConverter, ValidationError

# PostgreSQL `integer` (the id columns) is 32-bit; a larger id cannot exist, so it is simply unknown.
MAX_ID = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]+")
_SIGNED_ASCII_DIGITS = re.compile(r"[+-]?[0-9]+")
_MAX_ID_DIGITS = len(str(MAX_ID))


def parse_whole_number(text, *, maximum: int | None = None, max_digits: int = 12,
                       signed: bool = False) -> int | None:
    """A whole number written in ASCII digits ("42", " 7 ", "-3" when `signed`), or None for anything else.

    Caps the length before `int()` runs (a 5000-digit string would raise), refuses negatives unless
    `signed`, and values above `maximum` (in absolute value) when one is given.
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        value = text
    else:
        cleaned = str(text if text is not None else "").strip()
        pattern = _SIGNED_ASCII_DIGITS if signed else _ASCII_DIGITS
        if len(cleaned.lstrip("+-")) > max_digits or not pattern.fullmatch(cleaned):
            return None
        value = int(cleaned)
    if (value < 0 and not signed) or (maximum is not None and abs(value) > maximum):
        return None
    return value


def parse_id(text) -> int | None:
    """A row id (1..MAX_ID) from a form or query string, or None."""
    value = parse_whole_number(text, maximum=MAX_ID, max_digits=_MAX_ID_DIGITS)
    return value if value else None


def is_ascii_digits(text: str) -> bool:
    """True when `text` is one or more ASCII digits (never "²", "①" or "١")."""
    return bool(_ASCII_DIGITS.fullmatch(text))


class IdConverter(IntegerConverter):
    """`<id:post_id>`: 1..MAX_ID in ASCII digits; anything else does not match, so the route answers 404.

    A subclass of werkzeug's int converter so the OpenAPI document states the bounds.
    """

    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs):  # noqa: A002  (werkzeug's parameter name)
        super().__init__(map, min=1, max=MAX_ID)

    def to_python(self, value: str) -> int:
        if len(value) > _MAX_ID_DIGITS:
            raise ValidationError()  # before int(): a huge string is costly and may raise
        return super().to_python(value)


class WholeNumber(fields.Integer):
    """An integer field whose text form (query strings, multipart fields) is ASCII digits only.

    marshmallow's Integer runs `int()` on text, which reads "١٢" as 12; a JSON number is taken as it is.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)  # a JSON 1.5 or true is not a whole number
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            parsed = parse_whole_number(value, max_digits=18, signed=True)
            if parsed is None:
                raise self.make_error("invalid")
            value = parsed
        return super()._deserialize(value, attr, data, **kwargs)


class IdField(WholeNumber):
    """A row id in a JSON body, form or query string: a whole number from 1 to MAX_ID, else 422."""

    default_error_messages = {"id_range": _l("Not a valid id.")}

    def __init__(self, **kwargs):
        metadata = {"minimum": 1, "maximum": MAX_ID, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)
        if not 1 <= number <= MAX_ID:
            raise FieldError(str(self.error_messages["id_range"]))
        return number
