"""Everything vLLM: the in-process backend, the engine flags the harness adds, and the
engine-argument builder. The only package that imports vllm."""
