"""The console lines for what a backend reports: its engines' settings at start and, after a
test, what each replica served."""

from __future__ import annotations

from typing import Sequence

from sut.backend import EngineInfo, ReplicaStats


def render_engine(info: EngineInfo) -> str:
    """One engine's settings in one line (a server: its URL, model and context limit)."""
    if info.endpoint is not None:
        return f"{info.endpoint} serves {info.model} (max_model_len {info.max_model_len})"
    return (f"{info.engine} {info.version} ({info.defaults} defaults): "
            f"max_num_seqs {info.max_num_seqs}, max_num_batched_tokens "
            f"{info.max_num_batched_tokens}, dtype {info.dtype}, quantization "
            f"{info.quantization or 'none'}, kv cache {info.kv_cache_dtype}, prefix "
            f"caching {'on' if info.prefix_caching else 'off'}, tp "
            f"{info.tensor_parallel_size} x dp {info.data_parallel_size}")


def render_engines(infos: Sequence[EngineInfo]) -> str:
    """Every engine's line, joined by '; '."""
    return "; ".join(render_engine(info) for info in infos)


def render_replica_stats(stats: Sequence[ReplicaStats]) -> str:
    """A header, then one line per replica: samples, output tokens, tok/s and errors."""
    lines = [f"  {s.name:<40} {s.samples:>8,} samples  {s.output_tokens:>10,} tokens  "
             f"{s.tokens_per_s:>10,.1f} tok/s  {s.errors:>4} errors" for s in stats]
    return "per replica:\n" + "\n".join(lines)
