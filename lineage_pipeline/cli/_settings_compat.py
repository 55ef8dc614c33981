"""TEMPORARY (issue 16): ``load_settings(config_file)`` until settings.py implements that contract itself.

The contract: ``lineage_pipeline.settings.load_settings(config_file: Path | None = None) -> IngestionSettings``
(None = ``LINEAGE_CONFIG`` or config/ingestion.yaml), raising ``InvalidSettingsError``, no caching, no
import-time reads. Once settings.py has it, this module is used as a plain pass-through; delete it and
import from ``lineage_pipeline.settings`` in ``cli/common.py``.
"""

import inspect
from pathlib import Path

from lineage_pipeline import settings as _settings
from lineage_pipeline.settings import IngestionSettings, InvalidSettingsError

__all__ = ["InvalidSettingsError", "load_settings"]


def load_settings(config_file: Path | None = None) -> IngestionSettings:
    if "config_file" in inspect.signature(_settings.load_settings).parameters:
        return _settings.load_settings(config_file)
    if config_file is not None:
        # the pre-contract settings.py names its file through config_file(), read when settings are built and
        # by settings_sources; this process (one CLI command) uses the chosen file, without touching os.environ
        import lineage_pipeline.settings_sources as sources

        chosen = Path(config_file).resolve()
        _settings.config_file = sources.config_file = lambda: chosen
    return _settings.load_settings()


def settings_file(settings: IngestionSettings) -> Path:
    """The YAML file ``settings`` were read from (contract settings.py: ``type(settings).source_file()``)."""
    source_file = getattr(type(settings), "source_file", None)
    return source_file() if source_file else _settings.config_file()
