"""Spec of the console-script entry: ``--config-file`` is applied before any command module reads settings."""

import pytest

from lineage_pipeline.cli.entry import _config_file_argument


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--config-file", "a.yaml", "ingest"], "a.yaml"),
        (["--config-file=b.yaml", "config", "show"], "b.yaml"),
        (["ingest", "--config-file", "c.yaml"], None),  # after the command name it is not the group option
        (["config", "show"], None),
        (["--config-file"], None),
    ],
)
def test_group_option_is_found_only_before_the_command(args, expected):
    assert _config_file_argument(args) == expected


def test_config_file_reaches_import_time_readers(project_env, tmp_path):
    config = tmp_path / "other.yaml"
    config.write_text(f"corpus_root: {project_env.corpus}\ngraph_name: other_graph\n")
    project_env.env.pop("LINEAGE_CONFIG", None)
    script = (
        "import sys\nsys.argv = ['lineage', '--config-file', sys.argv[1], 'config', 'show']\n"
        "from lineage_pipeline.cli import entry\n"
        "try:\n    entry.main()\nexcept SystemExit:\n    pass\n"
        "from lineage_pipeline.resources import GraphStoreResource\n"
        "print('resource default:', GraphStoreResource().graph_name)\n"
    )
    result = project_env.run("python", "-c", script, str(config))
    assert "resource default: other_graph" in result.stdout
    assert f"yaml {config}" in result.stdout
