"""Where a heavy step (LoRA training, a whisper batch) runs: in the step's own process, in a Dagster Pipes
subprocess, or in a Kubernetes pod through ``PipesK8sClient`` (dagster-k8s). The program is the same in both Pipes
cases, ``python -m telegram_intel.ml.pipes_entry``; only the client differs.

``HeavyComputeConfig`` is the ``compute`` field of ``PersonaTrainingResource`` and ``WhisperResource``. Every field
may be given as ``dg.EnvVar(...)``; a field left unset falls back to its ``TELEGRAM_INTEL_COMPUTE*`` /
``TELEGRAM_INTEL_K8S_*`` variable read at run time (``mode`` unset: ``in_process``).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

ENTRY_MODULE = "telegram_intel.ml.pipes_entry"
MODES = ("in_process", "subprocess", "k8s")
GPU_RESOURCE = "nvidia.com/gpu"

#: field → environment variable it falls back to
ENV = {
    "mode": "TELEGRAM_INTEL_COMPUTE",
    "python": "TELEGRAM_INTEL_COMPUTE_PYTHON",
    "device": "TELEGRAM_INTEL_COMPUTE_DEVICE",
    "image": "TELEGRAM_INTEL_K8S_IMAGE",
    "namespace": "TELEGRAM_INTEL_K8S_NAMESPACE",
    "service_account": "TELEGRAM_INTEL_K8S_SERVICE_ACCOUNT",
    "gpus": "TELEGRAM_INTEL_K8S_GPUS",
    "cpu": "TELEGRAM_INTEL_K8S_CPU",
    "memory": "TELEGRAM_INTEL_K8S_MEMORY",
    "node_selector": "TELEGRAM_INTEL_K8S_NODE_SELECTOR",
    "tolerations": "TELEGRAM_INTEL_K8S_TOLERATIONS",
    "storage_claim": "TELEGRAM_INTEL_K8S_STORAGE_CLAIM",
    "env_secret": "TELEGRAM_INTEL_K8S_ENV_SECRET",
    "kubeconfig": "TELEGRAM_INTEL_K8S_KUBECONFIG",
}


class ComputeConfigError(ValueError):
    """A compute setting that cannot work (named in the message)."""


@dataclass(frozen=True)
class PipesOutcome:
    messages: list[dict[str, Any]]  # every custom message, in order
    result: dict[str, Any]  # the final ``result`` message
    where: str  # subprocess | k8s


class HeavyComputeConfig(dg.Config):
    """Where heavy steps run and, for Kubernetes, the pod they get."""

    mode: str | None = Field(default=None, description="in_process (default) | subprocess (Pipes, same machine) | "
                                                        "k8s (Pipes, a pod per step).")
    python: str | None = Field(default=None, description="subprocess: the interpreter (default: this one).")
    device: str | None = Field(default=None, description="Device of the launched task (cuda on GPU pods; default: "
                                                          "the resource's own device setting).")
    image: str | None = Field(default=None, description="k8s: the image (the project's CUDA image for GPUs).")
    namespace: str | None = Field(default=None, description="k8s: namespace of the pods (default: default).")
    service_account: str | None = Field(default=None, description="k8s: service account of the pods.")
    gpus: int | None = Field(default=None, description=f"k8s: `{GPU_RESOURCE}` limit of the pod (0: none).")
    cpu: str | None = Field(default=None, description="k8s: CPU request and limit, e.g. '4'.")
    memory: str | None = Field(default=None, description="k8s: memory request and limit, e.g. '16Gi'.")
    node_selector: dict[str, str] | None = Field(
        default=None, description="k8s: node labels, e.g. {\"nvidia.com/gpu.present\": \"true\"} (JSON in env).")
    tolerations: list[dict[str, Any]] | None = Field(
        default=None, description="k8s: tolerations, e.g. [{\"key\": \"nvidia.com/gpu\", \"operator\": "
                                  "\"Exists\", \"effect\": \"NoSchedule\"}] (JSON in env).")
    storage_claim: str | None = Field(
        default=None, description="k8s: PersistentVolumeClaim holding the storage folder; mounted in the pod at "
                                  "the same path as here, so datasets, models, adapters and media resolve alike.")
    env_secret: str | None = Field(default=None, description="k8s: Secret whose keys become the pod's environment.")
    kubeconfig: str | None = Field(default=None, description="k8s: kubeconfig file (default: in-cluster config "
                                                             "inside a pod, else ~/.kube/config).")
    pod_wait_timeout: float = Field(default=24 * 3600.0, description="k8s: seconds to wait for the pod.")
    poll_interval: float = Field(default=10.0, description="k8s: seconds between pod status polls.")

    def setting(self, name: str) -> Any:
        value = getattr(self, name)
        if value is not None:
            return value
        raw = os.environ.get(ENV[name], "").strip()
        if not raw:
            return None
        if name in ("node_selector", "tolerations"):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ComputeConfigError(f"{ENV[name]} is not JSON: {exc}") from None
            if not isinstance(value, dict if name == "node_selector" else list):
                kind = "object" if name == "node_selector" else "list"
                raise ComputeConfigError(f"{ENV[name]} must be a JSON {kind}")
            return value
        if name == "gpus":
            try:
                return int(raw)
            except ValueError:
                raise ComputeConfigError(f"{ENV[name]}={raw!r} is not a whole number") from None
        return raw

    def resolved_mode(self) -> str:
        mode = (self.setting("mode") or "in_process").strip().lower().replace("-", "_")
        if mode not in MODES:
            raise ComputeConfigError(f"compute mode {mode!r} is not one of {', '.join(MODES)} "
                                     f"(HeavyComputeConfig.mode / {ENV['mode']})")
        return mode

    # -- Kubernetes ------------------------------------------------------------------------------------------

    def pod_spec(self, storage_dir: Path | str) -> dict[str, Any]:
        """The base pod spec (Kubernetes field names) the step's pod is built from."""
        container: dict[str, Any] = {}
        limits: dict[str, str] = {}
        requests: dict[str, str] = {}
        gpus = self.setting("gpus")
        if gpus:
            limits[GPU_RESOURCE] = str(int(gpus))
        for name in ("cpu", "memory"):
            if self.setting(name):
                limits[name] = requests[name] = str(self.setting(name))
        if limits:
            container["resources"] = {"limits": limits, **({"requests": requests} if requests else {})}
        if self.setting("env_secret"):
            container["envFrom"] = [{"secretRef": {"name": self.setting("env_secret")}}]
        spec: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
        if self.setting("storage_claim"):
            container["volumeMounts"] = [{"name": "storage", "mountPath": str(storage_dir)}]
            spec["volumes"] = [{"name": "storage",
                                "persistentVolumeClaim": {"claimName": self.setting("storage_claim")}}]
        if self.setting("node_selector"):
            spec["nodeSelector"] = dict(self.setting("node_selector"))
        if self.setting("tolerations"):
            spec["tolerations"] = list(self.setting("tolerations"))
        if self.setting("service_account"):
            spec["serviceAccountName"] = self.setting("service_account")
        return spec

    def k8s_client(self):
        from dagster_k8s import PipesK8sClient

        kubeconfig = self.setting("kubeconfig")
        return PipesK8sClient(kubeconfig_file=kubeconfig, poll_interval=self.poll_interval)

    # -- launching -------------------------------------------------------------------------------------------

    def command(self) -> list[str]:
        """What runs, in a subprocess or as the pod's command."""
        python = self.setting("python") if self.resolved_mode() == "subprocess" else "python"
        return [python or sys.executable, "-m", ENTRY_MODULE]

    def launch(self, context: dg.AssetExecutionContext, extras: dict[str, Any], *, storage_dir: Path | str,
               env: dict[str, str] | None = None) -> PipesOutcome:
        """Run one task of ``ml/pipes_entry.py`` through Pipes and return its messages."""
        mode = self.resolved_mode()
        env = {"PYTHONUNBUFFERED": "1", "TELEGRAM_INTEL_STORAGE_DIR": str(storage_dir), **(env or {})}
        if mode == "subprocess":
            invocation = dg.PipesSubprocessClient(env=env).run(context=context, command=self.command(),
                                                               extras=extras)
        elif mode == "k8s":
            image = self.setting("image")
            if not image:
                raise ComputeConfigError(f"compute mode k8s needs an image (HeavyComputeConfig.image / "
                                         f"{ENV['image']})")
            invocation = self.k8s_client().run(
                context=context, extras=extras, image=image, command=self.command(),
                namespace=self.setting("namespace") or "default", env=env,
                base_pod_meta={"labels": {"app.kubernetes.io/part-of": "telegram-intel",
                                          "telegram-intel/task": str(extras.get("task"))}},
                base_pod_spec=self.pod_spec(storage_dir), pod_wait_timeout=self.pod_wait_timeout)
        else:
            raise ComputeConfigError("in_process steps are not launched through Pipes")
        messages = [m for m in invocation.get_custom_messages() if isinstance(m, dict)]
        results = [m for m in messages if m.get("type") == "result"]
        if not results:
            raise dg.Failure(f"the {extras.get('task')} task ({mode}) ended without a result message")
        return PipesOutcome(messages=messages, result=results[-1], where=mode)
