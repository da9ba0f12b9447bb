"""``voice_transcripts`` with ``compute.mode = k8s``: the real ``PipesK8sClient`` (dagster-k8s) against a contract
fake of the Kubernetes API on 127.0.0.1 — it checks the bearer token, the paths and the pod body, runs the pod's
command as a local process (the "kubelet"), reports its status and streams its log the way the API does. The pod
runs ``python -m telegram_intel.ml.pipes_entry``, the program the subprocess path runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import dagster as dg
import pytest
import yaml

from telegram_intel.defs.pipes import ENTRY_MODULE, HeavyComputeConfig
from telegram_intel.defs.voice.resources import WhisperResource
from telegram_intel.defs.voice.transcripts import voice_transcripts
from telegram_intel_tests.support import dagster as dagster_support
from telegram_intel_tests.support.voice import (
    DAY1,
    EN_BUDGET,
    VoiceMessage,
    day,
    insert_voice_messages,
    storage_of,
    transcripts,
)

TOKEN = "fake-cluster-token"
NAMESPACE = "telegram-intel"


class FakeKubernetes:
    """The pod endpoints PipesK8sClient uses: create, list by name, follow the log, delete."""

    def __init__(self, secrets: dict[str, dict[str, str]]) -> None:
        self.secrets = secrets
        self.pods: dict[str, dict] = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, list[bytes]] = {}
        self.deleted: list[str] = []
        self.unauthorized = 0
        self.errors: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    fake.unauthorized += 1
                    self._json(401, {"kind": "Status", "code": 401, "message": "Unauthorized"})
                    return False
                return True

            def do_POST(self):
                if not self._authorized():
                    return
                if urlparse(self.path).path != f"/api/v1/namespaces/{NAMESPACE}/pods":
                    fake.errors.append(f"POST {self.path}")
                    return self._json(404, {"kind": "Status", "code": 404})
                pod = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.start(pod)
                self._json(201, pod)

            def do_GET(self):
                if not self._authorized():
                    return
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path == f"/api/v1/namespaces/{NAMESPACE}/pods":
                    name = query.get("fieldSelector", [""])[0].removeprefix("metadata.name=")
                    items = [fake.status(name)] if name in fake.pods else []
                    return self._json(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items})
                prefix = f"/api/v1/namespaces/{NAMESPACE}/pods/"
                if url.path.startswith(prefix) and url.path.endswith("/log"):
                    name = url.path[len(prefix):-len("/log")]
                    flags = {k: v[0].lower() for k, v in query.items()}
                    if flags.get("follow") != "true" or flags.get("timestamps") != "true":
                        fake.errors.append(f"log without follow/timestamps: {self.path}")
                        return self._json(400, {"kind": "Status", "code": 400})
                    return self._follow_log(name)
                fake.errors.append(f"GET {self.path}")
                self._json(404, {"kind": "Status", "code": 404})

            def _follow_log(self, name: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                sent = 0
                proc = fake.procs[name]
                while True:
                    lines = fake.logs[name]
                    while sent < len(lines):
                        chunk = lines[sent]
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        self.wfile.flush()
                        sent += 1
                    if proc.poll() is not None and sent == len(fake.logs[name]) and fake.drained(name):
                        break
                    threading.Event().wait(0.05)
                self.wfile.write(b"0\r\n\r\n")

            def do_DELETE(self):
                if not self._authorized():
                    return
                name = urlparse(self.path).path.rsplit("/", 1)[-1]
                fake.deleted.append(name)
                self._json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self._readers: dict[str, threading.Thread] = {}

    # -- the "kubelet" ---------------------------------------------------------------------------------------

    def start(self, pod: dict) -> None:
        name = pod["metadata"]["name"]
        container = pod["spec"]["containers"][0]
        env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HOME": os.environ.get("HOME", "/"),
               "HF_HUB_OFFLINE": "1"}
        for source in container.get("envFrom") or []:
            env.update(self.secrets[source["secretRef"]["name"]])
        env.update({e["name"]: e["value"] for e in container.get("env") or []})
        for mount in container.get("volumeMounts") or []:
            assert Path(mount["mountPath"]).is_dir(), mount  # the claim holds the storage folder at this path
        self.pods[name] = pod
        self.logs[name] = []
        self.procs[name] = subprocess.Popen(container["command"], env=env, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])
        reader = threading.Thread(target=self._read, args=(name,), daemon=True)
        self._readers[name] = reader
        reader.start()

    def _read(self, name: str) -> None:
        for line in self.procs[name].stdout:
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self.logs[name].append(stamp.encode() + b" " + line)

    def drained(self, name: str) -> bool:
        return not self._readers[name].is_alive()

    def status(self, name: str) -> dict:
        pod = dict(self.pods[name])
        container = pod["spec"]["containers"][0]
        code = self.procs[name].poll()
        if code is None:
            state, phase = {"running": {"startedAt": "2026-12-06T00:00:00Z"}}, "Running"
        else:
            state = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}
            phase = "Succeeded" if code == 0 else "Failed"
        pod["status"] = {"phase": phase, "containerStatuses": [{
            "name": container["name"], "ready": code is None, "restartCount": 0, "image": container["image"],
            "imageID": "sha256:fake", "state": state}]}
        return pod

    def close(self) -> None:
        self.server.shutdown()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()


@pytest.fixture
def cluster(tmp_path, ti_env):
    fake = FakeKubernetes(secrets={"telegram-intel-env": {"TELEGRAM_INTEL_HOME": str(ti_env)}})
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": fake.url}}],
        "users": [{"name": "fake", "user": {"token": TOKEN}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": NAMESPACE}}],
    }))
    yield fake, kubeconfig
    fake.close()


def test_voice_batch_in_a_kubernetes_pod(engine, ti_env, speech, cluster):
    fake, kubeconfig = cluster
    storage = storage_of(ti_env)
    insert_voice_messages(engine, storage, [VoiceMessage(1, day(DAY1, 0), speech["en_budget"])])
    compute = HeavyComputeConfig(
        mode="k8s", image="registry.example.com/telegram-intel:cuda", namespace=NAMESPACE, gpus=1, memory="8Gi",
        node_selector={"nvidia.com/gpu.present": "true"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        storage_claim="telegram-intel-storage", env_secret="telegram-intel-env", kubeconfig=str(kubeconfig),
        poll_interval=0.5)
    resources = dagster_support.resources(whisper=WhisperResource(model="tiny.en", device="cpu", compute=compute))
    with dg.instance_for_test() as instance:
        result = dg.materialize([voice_transcripts], instance=instance, resources=resources,
                                partition_key="2025-06-01")
    assert result.success
    assert fake.unauthorized == 0 and fake.errors == []
    (name, pod), = fake.pods.items()
    container = pod["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", ENTRY_MODULE]
    assert container["image"] == "registry.example.com/telegram-intel:cuda"
    assert container["resources"]["limits"] == {"nvidia.com/gpu": "1", "memory": "8Gi"}
    assert pod["spec"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert pod["spec"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "telegram-intel-storage"
    assert container["volumeMounts"][0]["mountPath"] == str(storage)
    assert {"DAGSTER_PIPES_CONTEXT", "DAGSTER_PIPES_MESSAGES"} <= {e["name"] for e in container["env"]}
    assert fake.procs[name].returncode == 0 and fake.deleted == [name]  # the pod is removed when done
    row = transcripts(engine)[1]
    assert (row.status, row.model, row.language) == ("ok", "tiny.en", "en")
    assert all(w in row.text.lower() for w in EN_BUDGET[1]), row.text
    meta = dagster_support.metadata(result, "voice_transcripts", last=True)
    assert (meta["transcribed"], meta["whisper_launched"]) == (1, "k8s")
