"""The reader's language for marshmallow's built-in field messages in API validation errors.

flask-smorest validates request bodies and query strings with marshmallow, whose messages ("Not a valid
integer.", "Longer than maximum length 200.") are English only. `translate_field_errors` maps each one it
knows, with its figures, to our catalogue's wording in the request's language; messages our own schemas
raise are already translated and pass through unchanged.
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

# Exact built-in messages (fields, Schema, validate.Email/URL/Regexp/NoneOf/Predicate).
_EXACT = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field may not be null."),
    "Unknown field.": _l("Unknown field."),
    "Invalid input type.": _l("Invalid input type."),
    "Invalid type.": _l("Invalid input type."),
    "Invalid value.": _l("Invalid value."),
    "Invalid input.": _l("Invalid value."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid utf-8 string.": _l("Not a valid string."),
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid number.": _l("Not a valid number."),
    "Number too large.": _l("The number is too large."),
    "Special numeric values (nan or infinity) are not permitted.": _l("The number must be finite."),
    "Not a valid boolean.": _l("Not a valid true/false value."),
    "Not a valid list.": _l("Not a valid list."),
    "Not a valid tuple.": _l("Not a valid list."),
    "Not a valid mapping type.": _l("Not a valid object."),
    "Not a valid email address.": _l("Not a valid email address."),
    "Not a valid URL.": _l("Not a valid URL."),
    "Not a valid UUID.": _l("Not a valid UUID."),
    "Not a valid date.": _l("Not a valid date."),
    "Not a valid datetime.": _l("Not a valid date and time."),
    "Not a valid time.": _l("Not a valid time."),
    "String does not match expected pattern.": _l("Not in the expected format."),
}

# validate.Range's comparison words.
_OPERATORS = {
    "greater than or equal to": _l("greater than or equal to"),
    "greater than": _l("greater than"),
    "less than or equal to": _l("less than or equal to"),
    "less than": _l("less than"),
}
_OP = "greater than or equal to|greater than|less than or equal to|less than"

_PATTERNS = [
    (re.compile(r"Longer than maximum length (?P<max>\d+)\."), _l("Longer than the maximum length of %(max)s.")),
    (re.compile(r"Shorter than minimum length (?P<min>\d+)\."), _l("Shorter than the minimum length of %(min)s.")),
    (re.compile(r"Length must be between (?P<min>\d+) and (?P<max>\d+)\."),
     _l("The length must be between %(min)s and %(max)s.")),
    (re.compile(r"Length must be (?P<equal>\d+)\."), _l("The length must be %(equal)s.")),
    (re.compile(rf"Must be (?P<min_op>{_OP}) (?P<min>\S+) and (?P<max_op>{_OP}) (?P<max>\S+)\."),
     _l("Must be %(min_op)s %(min)s and %(max_op)s %(max)s.")),
    (re.compile(rf"Must be (?P<op>{_OP}) (?P<value>\S+)\."), _l("Must be %(op)s %(value)s.")),
    (re.compile(r"Must be one of: (?P<choices>.*)\."), _l("Must be one of: %(choices)s.")),
    (re.compile(r"Must be equal to (?P<other>.*)\."), _l("Must be equal to %(other)s.")),
]


def translate_message(message: str) -> str:
    """One marshmallow message in the request's language (unknown messages unchanged)."""
    known = _EXACT.get(message)
    if known is not None:
        return str(known)
    for pattern, template in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            values = {key: str(_OPERATORS[value]) if key.endswith("op") else value
                      for key, value in match.groupdict().items()}
            return str(template) % values
    return message


def translate_field_errors(errors: Any) -> Any:
    """The same structure of field -> messages (nested for nested schemas and list items), translated."""
    if isinstance(errors, str):
        return translate_message(errors)
    if isinstance(errors, dict):
        return {key: translate_field_errors(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [translate_field_errors(value) for value in errors]
    return errors
