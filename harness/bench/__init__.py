"""Benchmarks of the harness itself: against LoadGen alone and raw vLLM (cpu), on a GPU
machine (gpu), and the public reference implementation's style (reference)."""
