"""Spec of the ``lineage`` group: commands load lazily from the registry, ``--help`` imports none of the
heavy libraries, ``--config-file`` travels in ``ctx.obj``, and any failure ends with one ``Error:`` line."""

import json
import subprocess
import sys
from importlib import import_module

import click
import pytest
from click.testing import CliRunner

from lineage_pipeline.cli.bench_cmd import BENCH_COMMANDS
from lineage_pipeline.cli.lazy import LazyGroup
from lineage_pipeline.cli.main import COMMANDS, cli
from lineage_pipeline_tests.conftest import VENV_BIN

HEAVY = ("dagster", "neo4j", "falkordb", "redis", "sqlglot", "pydantic", "pydantic_settings", "yaml",
         "prometheus_client", "psutil", "lineage_pipeline.settings")

_IMPORTS_AFTER = (
    "import sys\nfrom lineage_pipeline.cli.main import cli\n"
    "try:\n    cli(sys.argv[1:], prog_name='lineage')\nexcept SystemExit:\n    pass\n"
    "print('IMPORTED', *sorted({m.split('.')[0] if not m.startswith('lineage_pipeline') else m for m in sys.modules}))\n"
)


def _imported_after(*args: str, env: dict | None = None) -> tuple[set[str], str]:
    result = subprocess.run([sys.executable, "-c", _IMPORTS_AFTER, *args], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    output, _, imported = result.stdout.rpartition("IMPORTED ")
    return set(imported.split()), output


def test_help_lists_every_command_without_importing_any_heavy_library():
    imported, output = _imported_after("--help")
    assert not imported & set(HEAVY), f"--help imported {sorted(imported & set(HEAVY))}"
    assert not any(m.startswith("lineage_pipeline.cli.") and m.endswith("_cmd") for m in imported)
    for name in COMMANDS:
        assert f"\n  {name} " in output


def test_bench_help_lists_its_commands_without_importing_the_benchmarks():
    imported, output = _imported_after("bench", "--help")
    assert not imported & {"dagster", "neo4j", "falkordb", "sqlglot", "psutil"}
    assert not any(m.startswith("lineage_pipeline.bench") for m in imported)
    for name in [*BENCH_COMMANDS, "generate", "run", "profile", "load"]:
        assert f"\n  {name} " in output


@pytest.mark.parametrize("registry", [COMMANDS, BENCH_COMMANDS], ids=["lineage", "bench"])
def test_registry_entries_import_to_commands_whose_first_sentence_is_the_listed_help(registry):
    for name, (target, short_help) in registry.items():
        module, _, attribute = target.partition(":")
        command = getattr(import_module(module), attribute)
        assert isinstance(command, click.Command), target
        assert command.name == name, f"{target} is named {command.name!r}, registered as {name!r}"
        assert command.get_short_help_str(limit=1000) == short_help, f"registry help of {name!r} is stale"


def test_command_modules_import_only_light_modules_at_top_level():
    modules = {target.split(":")[0] for target, _ in COMMANDS.values()}
    script = (
        "import sys\n" + "".join(f"import {m}\n" for m in sorted(modules))
        + f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_config_file_goes_to_the_settings_without_touching_the_environment(project_env, tmp_path):
    config = tmp_path / "other.yaml"
    config.write_text(f"corpus_root: {project_env.corpus}\ngraph_name: other_graph\n")
    project_env.env.pop("LINEAGE_CONFIG", None)
    script = (
        "import os, sys\nfrom lineage_pipeline.cli.main import cli\n"
        "try:\n    cli(sys.argv[1:], prog_name='lineage')\nexcept SystemExit:\n    pass\n"
        "print('LINEAGE_CONFIG' in os.environ)\n"
    )
    result = project_env.run("python", "-c", script, "--config-file", str(config), "config", "show", "--format", "json")
    shown, _, in_environment = result.stdout.rpartition("}\n")
    assert json.loads(shown + "}")["graph_name"] == {
        "value": "other_graph", "source": f"yaml {config}", "env": "LINEAGE_GRAPH_NAME"
    }
    assert in_environment.strip() == "False"


def test_lineage_config_env_is_the_group_option(project_env, tmp_path):
    config = tmp_path / "env.yaml"
    config.write_text(f"corpus_root: {project_env.corpus}\ngraph_name: env_graph\n")
    project_env.env["LINEAGE_CONFIG"] = str(config)
    shown = json.loads(project_env.run("lineage", "config", "show", "--format", "json").stdout)
    assert shown["graph_name"]["value"] == "env_graph"
    project_env.env["LINEAGE_CONFIG"] = str(tmp_path / "missing.yaml")
    result = project_env.run("lineage", "config", "show", check=False)
    assert result.returncode == 2 and "Invalid value for '--config-file'" in result.stderr


def _boom() -> None:
    raise KeyError("no_such_key")


def test_an_unexpected_error_is_one_error_line_not_a_traceback(monkeypatch):
    monkeypatch.delenv("LINEAGE_TRACEBACK", raising=False)
    group = LazyGroup("demo", lazy_commands={"boom": (f"{__name__}:boom_command", "Fails.")})
    result = CliRunner().invoke(group, ["boom"])
    assert result.exit_code == 1
    assert result.output == "Error: 'no_such_key' (KeyError; LINEAGE_TRACEBACK=1 shows where)\n"
    monkeypatch.setenv("LINEAGE_TRACEBACK", "1")
    assert isinstance(CliRunner().invoke(group, ["boom"]).exception, KeyError)


boom_command = click.Command("boom", callback=_boom, help="Fails.")


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2 and "No such command 'nope'" in result.output


def test_an_unreachable_graph_store_ends_with_one_error_line(project_env):
    project_env.env["LINEAGE_FALKORDB_URL"] = "redis://127.0.0.1:1"
    project_env.env["LINEAGE_WRITE_RETRY_DEADLINE_S"] = "3"
    result = project_env.run("lineage", "graph", "status", check=False)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    # the retry layer says what it waits for, one line a retry; the last word is one error line
    assert lines[-1].startswith("Error: ") and "unavailable" in lines[-1] and "Traceback" not in result.stderr
    assert all(line.startswith("graph store ") and "retry in" in line for line in lines[:-1])


def test_output_cut_short_by_its_reader_ends_quietly(project_env):
    """``lineage config show | head -1``: the reader closes the pipe; no error line, no traceback."""
    process = subprocess.Popen(
        [str(VENV_BIN / "lineage"), "config", "show"], env=project_env.env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(60) == 1 and stderr == "", stderr
