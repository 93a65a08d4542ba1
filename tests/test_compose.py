"""The scaled-out deployment files: docker-compose.yml, Dockerfile and .dockerignore (parsed, not run)."""

from __future__ import annotations

import itertools
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOY = ROOT / "deploy" / "postgres"

APP_SERVICES = ("migrate", "api", "worker", "beat")
LONG_RUNNING = ("api", "worker", "beat")
RETAIL_VARIABLES = (
    "RETAIL_DATABASE_URL",
    "RETAIL_DATABASE_REPLICA_URL",
    "RETAIL_REDIS_URL",
    "RETAIL_SECRET_KEY",
)
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, and $$ for a literal dollar.
INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class MissingVariable(Exception):
    pass


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable substitution, enough of it for the forms used in the file."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        present = name in env and (env[name] != "" or op not in (":-", ":?"))
        if present:
            return env[name]
        if op in (":?", "?"):
            raise MissingVariable(f"{name}: {arg}")
        if op in (":-", "-"):
            return arg
        return ""

    return INTERPOLATION.sub(substitute, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = compose["services"]
    assert isinstance(result, dict)
    return result


def command(service: dict[str, Any]) -> list[str]:
    value = service["command"]
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


def environment(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("environment") or {}
    if isinstance(value, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in value)
    return {str(key): str(val) for key, val in value.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("depends_on") or {}
    if isinstance(value, list):  # the short form means "started"
        return dict.fromkeys(value, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in value.items()}


def healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(str(part) for part in test)


def test_all_services_present(services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres", "postgres-replica", "redis", "migrate", "api", "worker", "beat"} <= set(services)


def test_postgres(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in healthcheck_text(postgres)
    env = environment(postgres)
    assert env["POSTGRES_DB"] == "winkelpunt"
    assert env["POSTGRES_USER"] == "winkelpunt"
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", env["POSTGRES_PASSWORD"])
    data_volumes = [v for v in postgres["volumes"] if str(v).endswith(":/var/lib/postgresql/data")]
    assert len(data_volumes) == 1
    assert data_volumes[0].split(":")[0] in compose["volumes"]  # a named volume, not a container layer


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path (or volume name) of the service's volumes, in the short syntax."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_ = str(volume).split(":")
        mounts[target] = source
    return mounts


def _option(service: dict[str, Any], name: str) -> str | None:
    """The value of a `-c name=value` server option in the service's command."""
    parts = command(service)
    for flag, value in itertools.pairwise(parts):
        if flag == "-c" and value.startswith(f"{name}="):
            return value.split("=", 1)[1]
    return None


def test_replica_is_a_streaming_standby_of_postgres(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    primary, replica = services["postgres"], services["postgres-replica"]
    assert replica["image"] == primary["image"]  # a standby runs the primary's major version
    assert depends_on(replica)["postgres"] == "service_healthy"
    data = _mounts(replica)["/var/lib/postgresql/data"]
    assert data in compose["volumes"]
    assert data != _mounts(primary)["/var/lib/postgresql/data"]
    env = environment(replica)
    assert env["PRIMARY_HOST"] == "postgres"
    assert env["PRIMARY_USER"] == environment(primary)["POSTGRES_USER"]
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", env["PGPASSWORD"])
    # Its entrypoint is the script in the repository, which copies the primary with -R (a standby).
    entrypoint = replica["entrypoint"]
    script = _mounts(replica)[entrypoint[-1]]
    assert entrypoint[0] == "bash"
    text = (ROOT / script).read_text(encoding="utf-8")
    assert re.search(r"pg_basebackup .*-h \"\$PRIMARY_HOST\" .*-R", text)
    assert "exec docker-entrypoint.sh" in text
    subprocess.run(["bash", "-n", str(ROOT / script)], check=True)
    check = healthcheck_text(replica)
    assert "pg_isready" in check
    assert "pg_is_in_recovery()" in check


def test_both_servers_let_the_standby_replicate(services: dict[str, dict[str, Any]]) -> None:
    user = environment(services["postgres"])["POSTGRES_USER"]
    for name in ("postgres", "postgres-replica"):
        hba_file = _option(services[name], "hba_file")
        assert hba_file is not None, name
        host_file = ROOT / _mounts(services[name])[hba_file]
        assert host_file == DEPLOY / "pg_hba.conf", name
    rules = [
        line.split()
        for line in (DEPLOY / "pg_hba.conf").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert ["host", "replication", user, "all", "scram-sha-256"] in rules
    # Over the network nothing is trusted; the standby's replication connection uses the password too.
    assert all(rule[-1] != "trust" for rule in rules if rule[0] == "host")
    assert _option(services["postgres"], "wal_keep_size")


def test_redis(services: dict[str, dict[str, Any]]) -> None:
    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    assert "redis-cli ping" in healthcheck_text(redis)


def test_commands(services: dict[str, dict[str, Any]]) -> None:
    assert command(services["migrate"]) == ["retail", "db", "upgrade"]
    assert command(services["api"]) == [
        "retail",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
        "--workers",
        "2",
    ]
    assert command(services["worker"]) == ["retail", "worker"]
    assert command(services["beat"]) == ["retail", "beat"]


def test_start_order(services: dict[str, dict[str, Any]]) -> None:
    assert depends_on(services["migrate"])["postgres"] == "service_healthy"
    assert services["migrate"].get("restart", "no") == "no"  # one-shot: a restart policy would loop it
    for name in LONG_RUNNING:
        conditions = depends_on(services[name])
        assert conditions["migrate"] == "service_completed_successfully", name
        assert conditions["redis"] == "service_healthy", name


def test_api_port_and_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    assert any(str(port).split(":")[-1] == "8000" for port in api["ports"])
    check = healthcheck_text(api)
    assert "/healthz" in check
    assert "urllib" in check
    assert "curl" not in check
    assert "wget" not in check


def test_retail_environment_shared_and_wired(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    assert any(key.startswith("x-") for key in compose)  # the shared settings live in an extension field
    envs = {name: environment(services[name]) for name in APP_SERVICES}
    for name, env in envs.items():
        assert set(RETAIL_VARIABLES) <= set(env), name
        assert {key: env[key] for key in RETAIL_VARIABLES} == {
            key: envs["api"][key] for key in RETAIL_VARIABLES
        }, name
    env = envs["api"]
    url = urlsplit(interpolate(env["RETAIL_DATABASE_URL"], {"POSTGRES_PASSWORD": "pw"}))
    assert url.scheme == "postgresql"
    assert url.hostname == "postgres"
    assert url.port == 5432
    assert url.path == "/winkelpunt"
    assert url.username == "winkelpunt"
    assert env["RETAIL_REDIS_URL"] == "redis://redis:6379/0"
    replica = urlsplit(interpolate(env["RETAIL_DATABASE_REPLICA_URL"], {"POSTGRES_PASSWORD": "pw"}))
    assert (replica.scheme, replica.hostname, replica.port) == ("postgresql", "postgres-replica", 5432)
    assert (replica.path, replica.username) == (url.path, url.username)  # the same database, replicated
    # The API does not wait for the replica: lookups read the primary while it is away.
    assert "postgres-replica" not in depends_on(services["api"])
    images = {services[name].get("image") for name in APP_SERVICES}
    assert len(images) == 1, images  # every role runs the same image


def test_messages_go_to_the_mail_catcher_unless_a_mail_server_is_set(
    services: dict[str, dict[str, Any]],
) -> None:
    from retail.mail import parse_smtp_url

    mailpit = services["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:")
    assert any(str(port).split(":")[-1] == "8025" for port in mailpit["ports"])  # its web inbox
    assert "readyz" in healthcheck_text(mailpit)
    for name in ("api", "worker", "beat"):
        env = environment(services[name])
        server = parse_smtp_url(interpolate(env["RETAIL_SMTP_URL"], {}))
        assert (server.host, server.port, server.tls) == ("mailpit", 1025, False), name
        configured = interpolate(env["RETAIL_SMTP_URL"], {"RETAIL_SMTP_URL": "smtps://u:p@mail.example:465"})
        assert parse_smtp_url(configured).tls, name
        assert "@" in interpolate(env["RETAIL_MAIL_FROM"], {}), name


def test_secrets_required_not_defaulted(services: dict[str, dict[str, Any]]) -> None:
    raw = COMPOSE.read_text(encoding="utf-8")
    for name in ("RETAIL_SECRET_KEY", "POSTGRES_PASSWORD"):
        references = re.findall(r"\$\{" + name + r"([^}]*)\}", raw)
        assert references, name
        assert all(ref.startswith(":?") for ref in references), f"{name} must use ${{{name}:?...}}"
    for name in APP_SERVICES:
        env = environment(services[name])
        assert re.fullmatch(r"\$\{RETAIL_SECRET_KEY:\?[^}]*\}", env["RETAIL_SECRET_KEY"]), name
        # The password is not written into the URL.
        assert "${POSTGRES_PASSWORD:?" in env["RETAIL_DATABASE_URL"], name
        assert "${POSTGRES_PASSWORD:?" in env["RETAIL_DATABASE_REPLICA_URL"], name


def test_interpolation(services: dict[str, dict[str, Any]]) -> None:
    env = environment(services["api"])
    with pytest.raises(MissingVariable):
        interpolate(env["RETAIL_SECRET_KEY"], {})
    with pytest.raises(MissingVariable):
        interpolate(env["RETAIL_SECRET_KEY"], {"RETAIL_SECRET_KEY": ""})
    with pytest.raises(MissingVariable):
        interpolate(env["RETAIL_DATABASE_URL"], {"RETAIL_SECRET_KEY": "x" * 32})

    given = {"RETAIL_SECRET_KEY": "s3cret-s3cret-s3cret", "POSTGRES_PASSWORD": "pg-password"}
    resolved = {key: interpolate(value, given) for key, value in env.items()}
    assert resolved["RETAIL_DATABASE_URL"] == "postgresql://winkelpunt:pg-password@postgres:5432/winkelpunt"
    assert (
        resolved["RETAIL_DATABASE_REPLICA_URL"]
        == "postgresql://winkelpunt:pg-password@postgres-replica:5432/winkelpunt"
    )
    assert resolved["RETAIL_SECRET_KEY"] == given["RETAIL_SECRET_KEY"]
    assert interpolate(environment(services["postgres"])["POSTGRES_PASSWORD"], given) == "pg-password"

    from retail.settings import Settings

    settings = Settings(
        database_url=resolved["RETAIL_DATABASE_URL"],
        database_replica_url=resolved["RETAIL_DATABASE_REPLICA_URL"],
        redis_url=resolved["RETAIL_REDIS_URL"],
        secret_key=resolved["RETAIL_SECRET_KEY"],
    )
    assert not settings.is_embedded
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.secret == given["RETAIL_SECRET_KEY"]
    assert settings.sqlalchemy_replica_url == (
        "postgresql+psycopg://winkelpunt:pg-password@postgres-replica:5432/winkelpunt"
    )


def test_interpolation_helper() -> None:
    assert interpolate("a${X:-b}c", {}) == "abc"
    assert interpolate("${X:-b}", {"X": "y"}) == "y"
    assert interpolate("$${X}", {}) == "${X}"
    with pytest.raises(MissingVariable):
        interpolate("${X?must}", {})
    assert interpolate("${X?must}", {"X": ""}) == ""


def test_beat_runs_once(services: dict[str, dict[str, Any]]) -> None:
    beat = services["beat"]
    assert int(beat.get("deploy", {}).get("replicas", 1)) == 1
    assert int(beat.get("scale", 1)) == 1
    # Its schedule file survives a restart, written to a volume the non-root user owns.
    assert any(str(volume).endswith(":/app/var") for volume in beat.get("volumes", []))


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    result = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_dockerfile() -> None:
    instructions = dockerfile_instructions()
    froms = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert froms[-1].split()[0] == "python:3.11-slim"
    assert any(keyword == "RUN" and "pip install ." in rest for keyword, rest in instructions)
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    cmd = [rest for keyword, rest in instructions if keyword == "CMD"]
    assert json.loads(cmd[-1]) == ["retail", "serve", "--host", "0.0.0.0"]
    user_index = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "USER")
    install_index = max(
        i for i, (kw, rest) in enumerate(instructions) if kw == "RUN" and "pip install" in rest
    )
    assert install_index < user_index  # installed as root, run as the unprivileged user


def test_dockerignore() -> None:
    entries = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    entries.discard("")
    for required in (".git", ".venv", "var", "*.db"):
        assert required in entries, required
    # What `pip install .` needs must stay in the build context.
    for needed in ("pyproject.toml", "retail", "stores", "migrations"):
        assert needed not in entries, needed
