"""Read docker-compose.yml the way compose does, to run its pieces on this machine without docker.

``interpolate`` implements compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:?error}`` and ``$$`` rules; ``init_command`` returns the airflow-init service's command
line; ``airflow_common_env`` returns the x-airflow-common environment with the container paths
replaced by host paths (the bind mounts of x-airflow-common, plus any overrides).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"

_VAR = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


class MissingVariable(ValueError):
    pass


def interpolate(text: str, variables: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = variables.get(name)
        # `:-` / `:?` treat an empty value as missing, `-` / `?` only an unset one
        missing = not value if op in (":-", ":?") else value is None
        if op and op.endswith("-") and missing:
            return arg
        if op and op.endswith("?") and missing:
            raise MissingVariable(f"{name}: {arg}")
        return value or ""

    return _VAR.sub(sub, text)


def compose_variables(text: str) -> set[str]:
    """Names of the variables a compose file reads (``$${X}`` is a container-time escape)."""
    return {m.group("name") for m in _VAR.finditer(text) if m.group("name")}


def load_compose() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(COMPOSE_FILE.read_text())


def init_command(doc: dict[str, Any] | None = None) -> list[str]:
    """``entrypoint + command`` of airflow-init, ``$$`` unescaped (what the container runs)."""
    svc = (doc or load_compose())["services"]["airflow-init"]
    entrypoint = svc["entrypoint"]
    argv = [entrypoint] if isinstance(entrypoint, str) else list(entrypoint)
    argv += [svc["command"]] if isinstance(svc["command"], str) else list(svc["command"])
    return [interpolate(arg, {}) for arg in argv]


def bind_mounts(doc: dict[str, Any], variables: dict[str, str]) -> dict[str, str]:
    """container path -> host path of x-airflow-common's bind mounts (named volumes left out)."""
    mounts = {}
    for spec in doc["x-airflow-common"]["volumes"]:
        host, container = interpolate(spec, variables).split(":")[:2]
        if host.startswith("."):
            mounts[container] = str((REPO_ROOT / host).resolve())
        elif host.startswith("/"):
            mounts[container] = host
    return mounts


def named_volume_targets(doc: dict[str, Any]) -> set[str]:
    targets = set()
    for spec in doc["x-airflow-common"]["volumes"]:
        host, container = spec.split(":")[:2]
        if not host.startswith((".", "/", "$")):
            targets.add(container)
    return targets


def airflow_common_env(
    variables: dict[str, str], path_map: dict[str, str], doc: dict[str, Any] | None = None
) -> dict[str, str]:
    """x-airflow-common environment, interpolated, with container paths mapped by ``path_map``.

    ``path_map`` (container path -> host path) wins over the bind mounts of the compose file and
    must cover its named volumes; map every folder the services write to a temporary folder.
    """
    doc = doc or load_compose()
    unmapped = {
        t for t in named_volume_targets(doc) if not any(t == p or t.startswith(p + "/") for p in path_map)
    }
    if unmapped:
        raise ValueError(f"named volumes need a host folder in path_map: {sorted(unmapped)}")
    mapping = {**bind_mounts(doc, variables), **path_map}
    prefixes = sorted(mapping, key=len, reverse=True)
    env = {}
    for key, raw in doc["x-airflow-common"]["environment"].items():
        value = interpolate(str(raw), variables)
        for prefix in prefixes:
            if value == prefix or value.startswith(prefix + "/"):
                value = mapping[prefix] + value[len(prefix) :]
                break
        env[key] = value
    return env
