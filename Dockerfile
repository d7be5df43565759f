# GPU image: vLLM's official image plus LoadGen and this harness.
#   docker build -t mlperf-llama31 .
#   docker run --gpus all --ipc=host -v /models:/models -v /data:/data -v $PWD/runs:/harness/runs \
#     mlperf-llama31 make run-offline MODEL=/models/Llama-3.1-8B-Instruct DATASET=/data/cnn_eval.json
FROM vllm/vllm-openai:v0.22.1

RUN apt-get update && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /harness
COPY requirements-gpu.txt .
RUN python3 -m pip install --no-cache-dir -r requirements-gpu.txt
COPY . .
RUN python3 -m pip install --no-cache-dir --no-deps -e .

# The image's Python has everything: the Makefile skips its .venv install step.
ENV PYTHON=python3 HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1
ENTRYPOINT []
CMD ["make", "help"]
