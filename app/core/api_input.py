"""How every /api/v1 request body is read: one webargs parser behind every domain's API blueprint.

JSON bodies are checked before a schema sees them: a body sent as another content type is a 415, not a
confusing "field required"; nesting is bounded (the C decoder recurses, so `[` x 1000 would raise
RecursionError); and a string holding a lone surrogate ("\\ud800" decodes to a str that no database driver
can encode) is refused with a 422. Multipart bodies are read as form fields plus files through one
schema, and a file field refuses plain text, which would otherwise reach the service as a str.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import ValidationError
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import UnsupportedMediaType

from app.core.errors import Invalid

MAX_JSON_DEPTH = 32  # our deepest schema nests 3 levels; 32 leaves room and stays far from the recursion limit
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _check_encodable(value: Any) -> None:
    """Refuse strings (keys or values) that are not valid Unicode, i.e. hold lone surrogates."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            message = _("The request contains text that is not valid Unicode (a lone surrogate).")
            raise Invalid(message, {"_body": [message]}) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_encodable(key)
            _check_encodable(item)
    elif isinstance(value, list):
        for item in value:
            _check_encodable(item)


def load_json_body(raw: bytes | str) -> Any:
    """Decode a JSON request body with bounded nesting and encodable strings, or raise a 4xx error.

    Malformed JSON raises json.JSONDecodeError, which the caller reports as a 400.
    """
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw  # UnicodeDecodeError: webargs' 400
    if json_depth(text) > MAX_JSON_DEPTH:
        message = _("The JSON body is nested too deeply (at most %(max)d levels).", max=MAX_JSON_DEPTH)
        raise Invalid(message, {"_body": [message]})
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:  # the depth check should prevent it; never let it become a 500
        message = _("The JSON body is nested too deeply (at most %(max)d levels).", max=MAX_JSON_DEPTH)
        raise Invalid(message, {"_body": [message]}) from None
    except ValueError:  # an integer literal longer than Python converts (4300 digits)
        message = _("The JSON body contains a number that is too long.")
        raise Invalid(message, {"_body": [message]}) from None
    _check_encodable(data)
    return data


class ApiParser(FlaskParser):
    """webargs parser for the API: checked JSON bodies, and a `multipart` location (form fields and files
    read by one schema)."""

    __location_map__ = dict(multipart="load_multipart", **FlaskParser.__location_map__)

    def _raw_load_json(self, req):
        if not is_json_request(req):
            if (req.content_length or 0) > 0 or req.get_data(cache=True):
                raise UnsupportedMediaType()
            return core.missing  # no body: an optional body is simply absent, a required one reported missing
        return load_json_body(req.get_data(cache=True))

    def load_multipart(self, req, schema):
        merged = MultiDict(list(req.form.items(multi=True)) + list(req.files.items(multi=True)))
        return self._makeproxy(merged, schema)


class ApiBlueprint(Blueprint):
    """The Blueprint every domain's api.py uses: the API parser, and multipart bodies documented as one
    multipart/form-data request body."""

    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}


class FileField(Upload):
    """An uploaded file; text sent in its place (a form field instead of a file part) is a 422."""

    default_error_messages = {"not_a_file": _l("Attach a file here, not text.")}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError(str(self.error_messages["not_a_file"]))
        return value

