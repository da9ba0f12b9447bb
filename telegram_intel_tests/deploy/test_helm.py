"""``deploy/helm/values.yaml`` against the official Dagster chart's ``values.schema.json`` (vendored under
``deploy/schemas/dagster-helm/``), the Kubernetes objects of ``deploy/helm/telegram-intel.yaml`` and the values'
Kubernetes fields against the Kubernetes API models (strictly: an unknown field is an error), and the pod a GPU
step gets through ``PipesK8sClient``."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import kubernetes
import pytest
import yaml
from dagster_k8s.models import k8s_model_from_dict, k8s_snake_case_dict

from telegram_intel.defs.pipes import ENTRY_MODULE, ENV, HeavyComputeConfig

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SCHEMA = json.loads((DEPLOY / "schemas" / "dagster-helm" / "values.schema.json").read_text())
VALUES = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
MANIFESTS = [d for d in yaml.safe_load_all((DEPLOY / "helm" / "telegram-intel.yaml").read_text()) if d]


def _override_schema(schema):
    """The schema for an override file: Helm validates it merged over the chart's defaults, which hold the required
    keys. The chart's Kubernetes-typed fields point at kubernetesjsonschema.dev (not reachable here): those
    references are dropped, leaving the chart's own constraints beside them (type, additionalProperties); the
    fields are checked against the Kubernetes client's models below instead."""
    if isinstance(schema, dict):
        return {k: _override_schema(v) for k, v in schema.items()
                if k != "required" and not (k == "$ref" and str(v).startswith("https://"))}
    if isinstance(schema, list):
        return [_override_schema(v) for v in schema]
    return schema


def _validator():
    return jsonschema.Draft7Validator(_override_schema(SCHEMA))


def k8s(kind: str, obj: dict):
    """``obj`` as the Kubernetes client model ``kind`` (e.g. V1Volume); unknown keys anywhere raise."""
    cls = getattr(kubernetes.client, kind)
    return k8s_model_from_dict(cls, k8s_snake_case_dict(cls, obj))


def test_values_validate_against_the_chart_schema():
    errors = sorted(_validator().iter_errors(VALUES), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
    assert set(VALUES) <= set(SCHEMA["properties"])


@pytest.mark.parametrize(("path", "value", "message"), [
    (("dagsterWebserver", "replicas"), 2, "Additional properties are not allowed ('replicas'"),
    (("runLauncher", "type"), "K8sJobLauncher", "is not one of"),
    (("dagsterDaemon", "runCoordinator", "config", "queuedRunCoordinator", "maxConcurrentRuns"), "eight",
     "is not valid under any of the given schemas"),
])
def test_schema_catches_mistakes(path, value, message):
    broken = copy.deepcopy(VALUES)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    messages = [e.message for e in _validator().iter_errors(broken)]
    assert any(message in m for m in messages), messages


def test_values_kubernetes_fields_are_valid_kubernetes():
    deployment = VALUES["dagster-user-deployments"]["deployments"][0]
    launcher = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
    for source in (deployment, launcher):
        for v in source["volumes"]:
            k8s("V1Volume", v)
        for m in source["volumeMounts"]:
            k8s("V1VolumeMount", m)
        for s in source["envSecrets"]:
            k8s("V1SecretEnvSource", s)
        k8s("V1ResourceRequirements", source["resources"])
    # the run Jobs mount the claim the Pipes pods mount, at the path the code server's env names
    assert deployment["volumes"] == launcher["volumes"]
    assert deployment["volumeMounts"][0]["mountPath"] == deployment["env"]["TELEGRAM_INTEL_STORAGE_DIR"]
    # the chart's instance has the limits of deploy/dagster.yaml
    deploy_instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    queued = VALUES["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    limits = {(t["key"], t.get("value")) for t in queued["tagConcurrencyLimits"]}
    deploy_limits = deploy_instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert limits == {(t["key"], t.get("value")) for t in deploy_limits}
    assert VALUES["additionalInstanceConfig"]["concurrency"]["pools"] == deploy_instance["concurrency"]["pools"]


def test_manifests_are_valid_kubernetes_objects():
    kinds = []
    for doc in MANIFESTS:
        version = doc["apiVersion"].split("/")[-1].capitalize()
        k8s(f"{version}{doc['kind']}", doc)
        kinds.append((doc["kind"], doc["metadata"]["name"]))
    assert ("Deployment", "telegram-intel-listener") in kinds and ("Deployment", "telegram-intel-bot") in kinds
    assert ("PersistentVolumeClaim", "telegram-intel-storage") in kinds and ("Role", "telegram-intel-pipes") in kinds
    claims = {d["metadata"]["name"] for d in MANIFESTS if d["kind"] == "PersistentVolumeClaim"}
    assert VALUES["dagster-user-deployments"]["deployments"][0]["env"]["TELEGRAM_INTEL_K8S_STORAGE_CLAIM"] in claims
    postgres = next(d for d in MANIFESTS if d["kind"] == "StatefulSet")
    assert postgres["spec"]["template"]["spec"]["containers"][0]["image"].startswith("pgvector/pgvector:")
    listener = next(d for d in MANIFESTS if d["metadata"]["name"] == "telegram-intel-listener")
    assert listener["spec"]["replicas"] == 1 and listener["spec"]["strategy"]["type"] == "Recreate"
    with pytest.raises(Exception, match="Unexpected keys"):
        k8s("V1Deployment", {**listener, "spec": {**listener["spec"], "replica": 2}})


def test_gpu_step_pod_from_the_values(monkeypatch):
    """The pod PipesK8sClient creates for a GPU step under the chart's code-server environment: the CUDA image, the
    GPU limit, node selector, tolerations, the storage claim at the storage path, and the same program the
    subprocess path runs."""
    from dagster_k8s.pipes import build_pod_body

    env = VALUES["dagster-user-deployments"]["deployments"][0]["env"]
    for name in ENV.values():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    compute = HeavyComputeConfig()
    assert compute.resolved_mode() == "k8s" and compute.setting("device") == "cuda"
    storage = env["TELEGRAM_INTEL_STORAGE_DIR"]
    pod = build_pod_body("dagster-pipes-step", compute.setting("image"), compute.command(),
                         {"DAGSTER_PIPES_CONTEXT": "x"}, {"labels": {"telegram-intel/task": "lora"}},
                         compute.pod_spec(storage))
    container = pod.spec.containers[0]
    assert container.image.endswith(":cuda")
    assert container.command == ["python", "-m", ENTRY_MODULE]
    assert HeavyComputeConfig(mode="subprocess").command()[1:] == ["-m", ENTRY_MODULE]
    assert container.resources.limits == {"nvidia.com/gpu": "1", "cpu": "4", "memory": "24Gi"}
    assert pod.spec.node_selector == {"nvidia.com/gpu.present": "true"}
    assert pod.spec.tolerations[0].key == "nvidia.com/gpu" and pod.spec.tolerations[0].effect == "NoSchedule"
    assert container.volume_mounts[0].mount_path == storage
    assert pod.spec.volumes[0].persistent_volume_claim.claim_name == "telegram-intel-storage"
    assert container.env_from[0].secret_ref.name == "telegram-intel-env"
    assert pod.spec.restart_policy == "Never" and pod.spec.service_account_name == "dagster"


def test_bad_compute_settings_are_named(monkeypatch):
    from telegram_intel.defs.pipes import ComputeConfigError

    monkeypatch.setenv("TELEGRAM_INTEL_COMPUTE", "gpu-cluster")
    with pytest.raises(ComputeConfigError,
                       match="compute mode 'gpu_cluster' is not one of in_process, subprocess, k8s"):
        HeavyComputeConfig().resolved_mode()
    monkeypatch.setenv("TELEGRAM_INTEL_K8S_TOLERATIONS", "{not json")
    with pytest.raises(ComputeConfigError, match="TELEGRAM_INTEL_K8S_TOLERATIONS is not JSON"):
        HeavyComputeConfig().pod_spec("/data")
