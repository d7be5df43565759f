"""user.conf checks mirror LoadGen's parser; the demo section applies only to the demo."""

import pytest

from harness.errors import ConfigError
from harness.userconf import load_user_conf

BASE = """# comment line
llama3_1-8b.Offline.target_qps = 34
# ==== BEGIN DEMO SETTINGS: demo only ====
llama3_1-8b.*.performance_sample_count_override = 32
# ==== END DEMO SETTINGS ====
*.Server.min_duration = 600000
"""


def _write(tmp_path, text):
    p = tmp_path / "user.conf"
    p.write_text(text)
    return p


def test_demo_section_kept_for_demo_only(tmp_path):
    path = _write(tmp_path, BASE)
    demo = load_user_conf(path, demo=True).text
    real = load_user_conf(path, demo=False).text
    assert "performance_sample_count_override = 32" in demo
    assert "performance_sample_count_override" not in real
    assert "target_qps = 34" in real and "*.Server.min_duration = 600000" in real


@pytest.mark.parametrize("line,message", [
    ("llama3_1-8b.Offline.target_qsp = 3", "no setting 'target_qsp' (it would be ignored silently); did you mean 'target_qps'?"),
    ("llama3_1-8b.Ofline.target_qps = 3", "unknown scenario 'Ofline'"),
    ("llama3_1-8b.target_qps = 3", "must have the form model.scenario.key"),
    ("llama3_1-8b.Offline.target_qps 3", "expected 'model.scenario.key = value'"),
    ("llama3_1-8b.Offline.target_qps = fast", "value 'fast' for llama3_1-8b.Offline.target_qps must be a number"),
    ("llama3_1-8b.Offline.target_qps = 3 # fast", "only one value may follow '='"),
    ("#no space comment", "'#' as a comment only as a word of its own"),
])
def test_bad_lines_name_file_line_and_fix(tmp_path, line, message):
    path = _write(tmp_path, "# ok\n" + line + "\n")
    with pytest.raises(ConfigError) as err:
        load_user_conf(path, demo=False)
    assert f"{path}:2" in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize("text,message", [
    ("# ==== BEGIN DEMO SETTINGS x\n", "never closed"),
    ("# ==== END DEMO SETTINGS\n", "without a BEGIN"),
])
def test_unbalanced_demo_section(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_user_conf(_write(tmp_path, text), demo=True)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="user.conf not found"):
        load_user_conf(tmp_path / "nope.conf", demo=False)


def test_project_user_conf_is_valid():
    from harness.cli import REPO_ROOT

    for demo in (True, False):
        load_user_conf(REPO_ROOT / "user.conf", demo=demo)


def test_mode_comes_from_the_command_not_user_conf(tmp_path):
    with pytest.raises(ConfigError, match="the test mode comes from the command"):
        load_user_conf(_write(tmp_path, "*.*.mode = 1\n"), demo=False)
