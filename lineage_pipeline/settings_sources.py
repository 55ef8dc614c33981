"""Where each setting came from (default, YAML file, environment, feature flag), with secrets masked.

Used by ``lineage config show`` and by every settings error message, so an operator always sees the
key, the offending value and the place to fix it. It reads the same sources pydantic-settings reads;
it never decides a value itself.
"""

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import EnvSettingsSource, SettingsError

from lineage_pipeline.settings import IngestionSettings, default_config_file

MASK = "********"
_SECRET_NAME = re.compile(r"password|secret|token|api_key", re.IGNORECASE)
_SETTINGS_ERROR = re.compile(r'field "(?P<field>\w+)" from source "(?P<source>\w+)"')


def _fields() -> dict[str, FieldInfo]:
    return IngestionSettings.model_fields


def env_names(name: str) -> list[str]:
    """Environment variables that set field ``name``, in the order pydantic-settings tries them (asked of
    pydantic-settings' own environment source, so prefix and aliases are never re-derived here)."""
    source = EnvSettingsSource(IngestionSettings)
    return [env_name.upper() for _, env_name, _ in source._extract_field_info(_fields()[name], name)]


def field_for_key(key: str) -> str | None:
    """The field a YAML key, alias or error location names (``lineage_enable_batching`` -> ``enable_batching``)."""
    lowered = key.lower()
    for name in _fields():
        if lowered == name or lowered in [n.lower() for n in env_names(name)]:
            return name
    return None


def _set_env_var(name: str) -> str | None:
    """The environment variable (or ``NAME__*`` nested family) that sets ``name`` in this process, if any."""
    upper_env = {key.upper(): key for key in os.environ}
    for candidate in env_names(name):
        if candidate in upper_env:
            return upper_env[candidate]
        nested = sorted(key for key in upper_env if key.startswith(candidate + "__"))
        if nested:
            return f"{candidate}__*"
    return None


def _yaml_values(path: Path) -> dict[str, Any]:
    """Keys of the YAML settings file mapped to field names; unreadable files read as empty (the loader reports them)."""
    try:
        loaded = yaml.safe_load(path.read_text()) if path.exists() else None
    except (OSError, yaml.YAMLError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {field_for_key(str(key)) or str(key): value for key, value in loaded.items()}


@dataclass(frozen=True)
class SettingRow:
    """One effective setting as an operator sees it."""

    key: str
    value: str
    source: str
    env: str


def source_of(name: str, yaml_values: dict[str, Any], yaml_path: Path) -> str:
    """``env NAME``, ``yaml <file>`` or ``default``: the highest-precedence source that sets ``name``."""
    env_var = _set_env_var(name)
    if env_var:
        return f"env {env_var}"
    if name in yaml_values:
        return f"yaml {yaml_path}"
    return "default"


def is_secret(name: str) -> bool:
    """Whether a field holds a secret (never printed, logged or put in metadata)."""
    annotation = str(_fields()[name].annotation) if name in _fields() else ""
    return "SecretStr" in annotation or bool(_SECRET_NAME.search(name))


def redact_url(url: str) -> str:
    """``scheme://user:****@host:port/path`` — the password of a URL masked, the rest kept for diagnosis."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{netloc}"))


def display_value(name: str, value: Any) -> str:
    """A setting's value as text, secrets masked (unset secrets shown as unset, so their absence is visible)."""
    if value is None:
        return "null"
    if is_secret(name) or isinstance(value, SecretStr):
        return MASK
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        return redact_url(value) if "://" in value else value
    return json.dumps(value, default=str)


def describe(settings: IngestionSettings) -> list[SettingRow]:
    """Every field of ``settings``: effective value (masked), the source it came from, its environment variable."""
    path = type(settings).source_file().resolve()
    yaml_values = _yaml_values(path)
    overridden = settings.overridden
    rows = []
    for name in _fields():
        source = source_of(name, yaml_values, path)
        if name in overridden:
            source = f"{overridden[name]} (configured by {source})"
        rows.append(SettingRow(name, display_value(name, getattr(settings, name)), source, env_names(name)[0]))
    return rows


def _raw_value(name: str, error_input: Any) -> Any:
    if isinstance(error_input, dict):
        for key in [name, *[n.lower() for n in env_names(name)]]:
            if key in error_input:
                return error_input[key]
    info = _fields()[name]
    return info.get_default(call_default_factory=True)


def _located(name: str, value: Any, yaml_values: dict[str, Any], yaml_path: Path) -> str:
    shown = MASK if is_secret(name) else repr(value.get_secret_value() if isinstance(value, SecretStr) else value)
    return f"{name}={shown} (from {source_of(name, yaml_values, yaml_path)})"


def format_validation_error(error: ValidationError, yaml_path: Path | None = None) -> str:
    """One line per problem: key, value and where it came from, then pydantic's reason; ``yaml_path`` is the
    settings file that was read (default: ``default_config_file()``)."""
    path = (yaml_path or default_config_file()).resolve()
    yaml_values = _yaml_values(path)
    lines = []
    for problem in error.errors():
        reason = problem["msg"].removeprefix("Value error, ")
        if problem["loc"]:
            key = str(problem["loc"][0])
            name = field_for_key(key)
            if name is None:
                where = f"yaml {path}" if key in yaml_values else "input"
                lines.append(f"{key} (from {where}): unknown setting")
                continue
            value = problem.get("input")
            lines.append(f"{_located(name, value, yaml_values, path)}: {reason}")
        else:
            names = [n for n in str(problem.get("ctx", {}).get("keys", "")).split(",") if n]
            located = ", ".join(_located(n, _raw_value(n, problem.get("input")), yaml_values, path) for n in names)
            lines.append(f"{located or 'settings'}: {reason}")
    return "\n".join(lines)


def format_settings_error(error: SettingsError) -> str:
    """A source that could not even be decoded (e.g. a list variable that is not JSON), named with its variable."""
    match = _SETTINGS_ERROR.search(str(error))
    if not match or match["field"] not in _fields():
        return str(error)
    name = match["field"]
    env_var = _set_env_var(name)
    if env_var and match["source"] == EnvSettingsSource.__name__:
        value = MASK if is_secret(name) else repr(os.environ.get(env_var, ""))
        return f"{name}={value} (from env {env_var}): not valid JSON for a {_fields()[name].annotation} setting"
    return f"{name} (from {match['source']}): {error.__cause__ or error}"


def describe_error(error: ValidationError | SettingsError, yaml_path: Path | None = None) -> str:
    """The report of either kind of settings failure."""
    if isinstance(error, ValidationError):
        return format_validation_error(error, yaml_path)
    return format_settings_error(error)
