"""RunLayout.prepare: an earlier run goes to history/, and the console says where."""

from harness.run.layout import RunLayout


def test_prepare_moves_an_earlier_run_to_history_and_says_so(tmp_path, capsys):
    layout = RunLayout(tmp_path, "Offline")
    first = layout.prepare("performance")
    (first / "mlperf_log_summary.txt").write_text("the first run")
    assert capsys.readouterr().err == ""  # nothing moved: nothing said
    again = layout.prepare("performance")
    [kept] = (tmp_path / "history").iterdir()
    assert (kept / "mlperf_log_summary.txt").read_text() == "the first run"
    assert again == first and not any(again.iterdir())
    assert capsys.readouterr().err == f"[harness] previous run moved to {kept}\n"
