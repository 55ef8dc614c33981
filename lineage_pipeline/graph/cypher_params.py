"""The ``CYPHER name=value ...`` header FalkorDB reads query parameters from, encoded fast.

Byte for byte what the ``falkordb`` client's ``Graph._build_params_header`` produces (strings quoted with
backslash and double quote escaped, ``null``, ``[..]``, ``{`key`:..}``), so values are parsed exactly as
the client's own encoding would have them parsed. The client encodes every value through a recursive
function and ``isinstance`` chain; a batch of a thousand relationship rows spent more time in it than
the server spent writing them. Types the fast path does not know go to the client's encoder.
"""

from typing import Any

from falkordb.helpers import stringify_param_value


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
