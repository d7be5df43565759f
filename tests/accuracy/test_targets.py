"""PASS/FAIL against the MLPerf targets: applied only on a full datacenter or edge set."""

from accuracy.rouge import RougeScores, format_report, passes_targets

AT_TARGET = dict(rouge1=38.7792, rouge2=15.9075, rougeL=24.4957, rougeLsum=35.793)


def test_full_datacenter_set_passes_at_99_percent():
    s = RougeScores(**{k: v * 0.99 + 1e-4 for k, v in AT_TARGET.items()}, gen_len=8167644,
                    gen_num=13368)
    assert passes_targets(s) is True
    assert "accuracy: PASS (datacenter targets, 13,368 samples)" in format_report(s)


def test_below_99_percent_or_short_output_fails():
    low = RougeScores(**{**AT_TARGET, "rouge2": 15.9075 * 0.985}, gen_len=8167644, gen_num=13368)
    short = RougeScores(**AT_TARGET, gen_len=int(8167644 * 0.89), gen_num=13368)
    long = RougeScores(**AT_TARGET, gen_len=int(8167644 * 1.11), gen_num=13368)
    for s in (low, short, long):
        assert passes_targets(s) is False
        assert "accuracy: FAIL" in format_report(s)
    assert "rouge2" in [ln.split()[0] for ln in format_report(low).splitlines() if ln.endswith("FAIL")]


def test_edge_set_uses_edge_targets():
    s = RougeScores(rouge1=39.06, rouge2=16.1147, rougeL=24.6375, rougeLsum=36.124,
                    gen_len=3051113, gen_num=5000)
    assert passes_targets(s) is True
    assert "(edge targets, 5,000 samples)" in format_report(s)
    dc_level = RougeScores(**AT_TARGET, gen_len=3051113, gen_num=5000)
    assert passes_targets(dc_level) is False  # rouge2 15.91 < 99 % of the edge 16.1147
    failed = [ln.split()[0] for ln in format_report(dc_level).splitlines() if ln.endswith("FAIL")]
    assert failed == ["rouge2"]


def test_other_sizes_are_not_comparable():
    s = RougeScores(**AT_TARGET, gen_len=100, gen_num=32)
    assert passes_targets(s) is None
    assert "not comparable: 32 samples scored" in format_report(s)
