"""The start-up engine line, rendered from the backends' records."""

from harness.results.engine_report import render_engines
from sut.backend import EngineInfo


def test_vllm_engine_line_names_every_setting():
    info = EngineInfo("vLLM", "0.32.0", "batch", max_num_seqs=512, max_num_batched_tokens=8192,
                      dtype="torch.bfloat16", quantization=None, kv_cache_dtype="auto",
                      prefix_caching=False, tensor_parallel_size=1, data_parallel_size=8)
    assert render_engines([info]) == (
        "vLLM 0.32.0 (batch defaults): max_num_seqs 512, max_num_batched_tokens 8192, dtype "
        "torch.bfloat16, quantization none, kv cache auto, prefix caching off, tp 1 x dp 8")


def test_servers_are_listed_one_after_another():
    a = EngineInfo("vLLM", endpoint="http://a:8000", model="/m", max_model_len=4096)
    b = EngineInfo("vLLM", endpoint="http://b:8000", model="/m")
    assert render_engines([a, b]) == ("http://a:8000 serves /m (max_model_len 4096); "
                                      "http://b:8000 serves /m (max_model_len None)")
