"""The ``CYPHER name=value ...`` header FalkorDB reads query parameters from, encoded fast.

Byte for byte what the ``falkordb`` client's ``Graph._build_params_header`` produces (strings quoted with
backslash and double quote escaped, ``null``, ``[..]``, ``{`key`:..}``), so values are parsed exactly as
the client's own encoding would have them parsed. The client encodes every value through a recursive
function and ``isinstance`` chain; a batch of a thousand relationship rows spent more time in it than
the server spent writing them. Types the fast path does not know go to the client's encoder.
"""

import json
import re
from typing import Any

from falkordb.helpers import stringify_param_value

_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=False).encode
_JSON_ONLY_ESCAPE = re.compile(r'\\[^"\\]')
r"""A JSON escape the client does not make (``\n``, ``\u0001``...): the client quotes only ``"`` and ``\``."""


def _json_list(value: list | tuple) -> str | None:
    """``value`` as JSON when that is byte for byte the client's literal, else None: lists of strings,
    ints, floats and nulls (JSON's ``{..}``, ``true``/``false`` and escapes of control characters differ;
    JSON has no inf or nan; a string holding a JSON word only costs the slow path)."""
    try:
        text = _JSON(value)
    except (TypeError, ValueError):
        return None
    if "{" in text or "true" in text or "false" in text or ("\\" in text and _JSON_ONLY_ESCAPE.search(text)):
        return None
    return text


def _key(key: Any) -> str:
    text = key.decode() if isinstance(key, bytes) else str(key)
    if text == "" or "`" in text:
        stringify_param_value({key: None})  # raises the client's own error for such a key
    return text


def literal(value: Any) -> str:
    """``value`` as a Cypher literal (the client's ``stringify_param_value``)."""
    kind = type(value)
    if kind is str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind is dict:
        parts = []
        for key, item in value.items():
            if type(key) is not str or not key or "`" in key:
                key = _key(key)
            kind = type(item)
            if kind is str:  # inlined: most values of a row are strings
                parts.append(f'`{key}`:"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"')
            elif kind is int:
                parts.append(f"`{key}`:{item}")
            else:
                parts.append(f"`{key}`:{literal(item)}")
        return "{" + ",".join(parts) + "}"
    if kind is list or kind is tuple:
        # node rows are dicts, which JSON writes otherwise: not encoded twice (rows of a batch are alike)
        text = _json_list(value) if not value or type(value[0]) is not dict else None
        if text is not None:
            return text
        items = []
        for item in value:
            kind = type(item)
            if kind is str:  # inlined: relationship rows are lists of strings and ints
                items.append('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"')
            elif kind is int:
                items.append(str(item))
            else:
                items.append(literal(item))
        return "[" + ",".join(items) + "]"
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value)
    if value is None:
        return "null"
    return stringify_param_value(value)


def params_header(params: dict[str, Any] | None) -> str:
    """The header to put before a query with ``params`` (empty for none)."""
    if params is None:
        return ""
    return "CYPHER " + "".join(f"`{_key(key)}`={literal(value)} " for key, value in params.items())
