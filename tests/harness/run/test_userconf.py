"""user.conf checks mirror LoadGen's parser; the demo section applies only to the demo."""

import pytest

from harness.errors import ConfigError
from harness.project_files import USER_CONF
from harness.rules import DATACENTER_SAMPLE_COUNT, LOADGEN_MODEL_DATACENTER
from harness.run.loadgen import extra_settings
from harness.run.userconf import load_user_conf

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


@pytest.mark.parametrize("demo, target_qps, sample_count", [
    (False, 34.0, DATACENTER_SAMPLE_COUNT),  # the tuned H200 figure; the full dataset
    (True, 16.0, 32),  # the demo section: one pass over the 32-sample demo dataset
])
def test_project_user_conf_gives_loadgen_its_settings(tmp_path, demo, target_qps, sample_count):
    """LoadGen itself reads the effective copy: the demo section counts only for the demo."""
    conf = load_user_conf(USER_CONF, demo=demo).write(tmp_path)
    settings = extra_settings(conf, LOADGEN_MODEL_DATACENTER, "Offline", "performance")
    assert settings.offline_expected_qps == target_qps
    assert settings.performance_sample_count_override == sample_count


def test_mode_comes_from_the_command_not_user_conf(tmp_path):
    with pytest.raises(ConfigError, match="the test mode comes from the command"):
        load_user_conf(_write(tmp_path, "*.*.mode = 1\n"), demo=False)
