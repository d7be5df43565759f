"""Everything vLLM: the engine flags the harness adds (`flags`), the engine command line
(`engine_args`), the in-process backend (`backend`) and the blocking `LLM` for benchmarks
(`blocking`). The only package that imports vllm."""
