"""``deploy/compose.yaml`` (+ ``compose.gpu.yaml``) against the Compose Specification's JSON schema, vendored under
``deploy/schemas/compose-spec/`` (no Docker Compose CLI here: the Debian package would bring a Docker daemon), after
the interpolation Compose itself does; then what a schema cannot say: references resolve, every long-running
service has a health check, the commands exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SCHEMA = json.loads((DEPLOY / "schemas" / "compose-spec" / "compose-spec.json").read_text())
ENV = {"POSTGRES_PASSWORD": "pw-from-env-file", "TELEGRAM_INTEL_WEB_TOKEN": "token-from-env-file"}
_VAR = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(ValueError):
    pass


def interpolate(value, env: dict[str, str]):
    """Compose's interpolation (``$$``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(1):
            return "$"
        name = m.group(2) or m.group(5)
        op, arg = m.group(3), m.group(4)
        present = name in env and (env[name] != "" or op not in (":-", ":?"))
        if present:
            return env[name]
        if op in (":?", "?"):
            raise MissingVariable(f"{name}: {arg}")
        return arg if op in (":-", "-") else ""

    return _VAR.sub(sub, value)


def merge(base, override):
    """Compose's merge of an override file: mappings merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: merge(base[k], v) if k in base else v for k, v in override.items()}}
    return override


def load(*names: str, env: dict[str, str] = ENV) -> dict:
    model: dict = {}
    for name in names:
        model = merge(model, yaml.safe_load((DEPLOY / name).read_text()))  # anchors and << merged by the loader
    return interpolate(model, env)


@pytest.mark.parametrize("files", [("compose.yaml",), ("compose.yaml", "compose.gpu.yaml")])
def test_compose_files_validate_against_the_compose_specification(files):
    model = load(*files)
    errors = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(model), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_schema_rejects_a_broken_service():
    """The check can fail: a misspelt key and a wrong type are errors."""
    model = load("compose.yaml")
    model["services"]["webserver"]["helthcheck"] = {"test": "true"}
    model["services"]["daemon"]["ports"] = "3000"
    messages = [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(model)]
    assert any("helthcheck" in m for m in messages) and any("is not of type 'array'" in m for m in messages)


def test_secrets_must_come_from_the_env_file():
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD: set POSTGRES_PASSWORD in deploy/.env"):
        load("compose.yaml", env={"TELEGRAM_INTEL_WEB_TOKEN": "t"})
    model = load("compose.yaml")
    text = (DEPLOY / "compose.yaml").read_text()
    assert ENV["POSTGRES_PASSWORD"] not in text and ENV["POSTGRES_PASSWORD"] in json.dumps(model)
    env_example = (DEPLOY / "env.example").read_text()
    assert re.search(r"^POSTGRES_PASSWORD=$", env_example, re.M)  # the example holds no secret


def test_topology_references_and_health_checks():
    model = load("compose.yaml")
    services, volumes = model["services"], set(model["volumes"])
    expected = {"postgres", "migrate", "user-code", "webserver", "daemon", "demo", "web", "listener", "bot"}
    assert expected <= set(services)
    assert services["postgres"]["image"].startswith("pgvector/pgvector:pg")
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, (name, dep)
        for mount in svc.get("volumes", []):
            source = mount.split(":")[0]
            assert source.startswith(".") and (DEPLOY / source).exists() or source in volumes, (name, mount)
        one_shot = svc.get("restart") == "no"
        if not one_shot and name != "listener":  # the listener's liveness is its own reconnect loop
            assert "healthcheck" in svc, f"{name} has no health check"
    app = services["user-code"]["environment"]
    assert app["TELEGRAM_INTEL_DATABASE_URL"].endswith("@postgres:5432/telegram_intel")
    assert (app["DAGSTER_PG_DB"], app["DAGSTER_CODE_SERVER_HOST"]) == ("dagster", "user-code")
    # the Dagster processes read the same instance and workspace files the topology test runs with
    assert services["webserver"]["command"][-1] == services["daemon"]["command"][-1] == \
        "/opt/dagster/dagster_home/workspace.yaml"
    gpu = load("compose.yaml", "compose.gpu.yaml")["services"]["user-code"]
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert gpu["environment"]["DAGSTER_PG_HOST"] == "postgres"  # merged, not replaced


def test_service_commands_exist():
    """Every `telegram-intel …`, `dagster …` and `dagster-daemon …` command the services and their health checks
    run is a real command."""
    import click
    from dagster._cli import cli as dagster_cli
    from dagster._daemon.cli import cli as daemon_cli

    from telegram_intel.cli.main import main

    groups = {"telegram-intel": (main, 1), "dagster": (dagster_cli, 2), "dagster-daemon": (daemon_cli, 1)}
    model = load("compose.yaml")
    checked = 0
    for name, svc in model["services"].items():
        commands = [svc.get("command"), (svc.get("healthcheck") or {}).get("test")]
        for command in commands:
            if not isinstance(command, list):
                continue
            if command[0] == "CMD":
                command = command[1:]
            if command[0] not in groups:
                continue
            group, depth = groups[command[0]]
            for word in command[1:1 + depth]:
                group = group.get_command(click.Context(group), word)
                assert group is not None, (name, command)
            checked += 1
    assert checked == 8, checked  # code server, daemon (+ their health checks), demo, web, listener, bot
