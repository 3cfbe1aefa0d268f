"""The deployment files hang together (checked offline: no Docker engine here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_is_consistent():
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"api", "postgres", "redis"} <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        if "build" in service:
            assert (ROOT / "deploy" / service["build"] / "Dockerfile").exists()
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            named = volume.split(":", 1)[0]
            if not named.startswith((".", "/")):
                assert named in compose.get("volumes", {}), f"{name}: volume {named}"
    assert services["api"]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")


def test_dockerfile_serves_with_the_shipped_gunicorn_config():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "deploy/gunicorn.conf.py" in dockerfile
    assert "qc_service.app:create_app()" in dockerfile


def test_gunicorn_config_loads():
    spec = importlib.util.spec_from_file_location("conf", ROOT / "deploy" / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.worker_class == "gthread"
    assert callable(module.on_starting)
