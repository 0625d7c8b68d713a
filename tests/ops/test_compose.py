"""docker-compose.yml and the Dockerfile, checked against the code without a Docker engine.

Every command is parsed by the real command-line parser of its program (Celery's click commands,
gunicorn's argument parser, Flower's tornado options), so an option that does not exist, a queue
that is not declared or a module that is not there fails here instead of in a crash loop.
"""

from __future__ import annotations

import configparser
import importlib.util
import re
import warnings

import click
import pytest
import yaml
from alembic.config import Config
from alembic.script import ScriptDirectory
from celery.bin.base import CLIContext
from celery.bin.celery import celery as celery_cli
from gunicorn.config import Config as GunicornConfig

import celeryconfig
from common.tasks import QUEUES, TASK_QUEUES
from common.webhooks import RetryPolicy
from tests.ops.conftest import COMPOSE_FILE, ROOT

COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES = COMPOSE["services"]
INFRA = {"postgres", "redis", "rabbitmq"}
APP_SERVICES = {name: spec for name, spec in SERVICES.items() if name not in INFRA}
LONG_RUNNING = {name: spec for name, spec in SERVICES.items() if name != "migrate"}
DECLARED_QUEUES = {queue.name for queue in celeryconfig.task_queues}
# What every role needs to talk to the others, identical everywhere (the x-app-env anchor).
SHARED_ENV = ("ENV", "DATABASE_URL", "REDIS_URL", "BROKER_URL", "SECRET_KEY", "ENCRYPTION_KEY",
              "INTERNAL_API_KEY", "INTERNAL_API_URL", "SCAN_ROOTS")  # fmt: skip
SECRETS = ("SECRET_KEY", "ENCRYPTION_KEY", "INTERNAL_API_KEY")


def _parse_celery(argv: list[str]) -> tuple[str, dict, dict]:
    """(subcommand, its parsed options, the global options) as ``celery`` itself would parse them."""
    from workers.app import app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = celery_cli.make_context("celery", list(argv))
        ctx.obj = CLIContext(app=app, no_color=True, workdir=None, quiet=True)
        name, command, rest = celery_cli.resolve_command(ctx, [*ctx.protected_args, *ctx.args])
        sub = command.make_context(name, rest, parent=ctx)
    return name, sub.params, ctx.params


def _celery_command(service: dict) -> tuple[str, dict, dict]:
    command = service["command"]
    assert command[0] == "celery", command
    return _parse_celery(command[1:])


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", value)
    assert match and value, value
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


WORKERS = {name: spec for name, spec in SERVICES.items() if (spec.get("command") or [])[3:4] == ["worker"]}


def test_the_stack_has_every_role():
    assert {"postgres", "redis", "migrate", "api", "ws", "beat", "flower"} <= set(SERVICES)
    assert {f"worker-{queue}" for queue in QUEUES} <= set(SERVICES)
    assert set(WORKERS) == {f"worker-{queue}" for queue in QUEUES}


def test_every_declared_queue_has_exactly_one_worker_service():
    assert DECLARED_QUEUES == set(QUEUES) == set(TASK_QUEUES.values()) | {celeryconfig.task_default_queue}
    consumed: dict[str, list[str]] = {}
    for name, spec in WORKERS.items():
        subcommand, options, global_options = _celery_command(spec)
        assert subcommand == "worker" and global_options["app"] == "workers.app", name
        for queue in options["queues"]:
            assert queue in DECLARED_QUEUES, f"{name} consumes undeclared queue {queue!r}"
            consumed.setdefault(queue, []).append(name)
    assert set(consumed) == DECLARED_QUEUES, f"queues without a worker: {DECLARED_QUEUES - set(consumed)}"
    assert all(len(services) == 1 for services in consumed.values()), consumed


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_worker_service_sizes_its_own_pool_and_shuts_down_warm(name):
    spec = WORKERS[name]
    command = spec["command"]
    _subcommand, options, _ = _celery_command(spec)
    assert "--pool" in command and ("--concurrency" in command or options["pool"].__name__ == "TaskPool")
    assert options["concurrency"] and options["concurrency"] >= 1
    assert not options.get("beat"), "beat must run in its own service, never embedded in a worker"
    # Node name <queue>@<container hostname>, which the healthcheck pings.
    queue = name.removeprefix("worker-")
    assert options["queues"] == [queue]
    assert command[command.index("-n") + 1] == f"{queue}@%h"
    assert spec["environment"]["WORKER_NAME"] == queue
    assert "$${WORKER_NAME}@$${HOSTNAME}" in spec["healthcheck"]["test"][1]
    assert "inspect ping" in spec["healthcheck"]["test"][1]
    # Warm shutdown: SIGTERM starts Celery's soft shutdown (running tasks may finish, then are requeued)
    # and Docker waits longer than that before it would SIGKILL.
    assert spec["stop_signal"] == "SIGTERM"
    assert spec["environment"]["REMAP_SIGTERM"] == "SIGQUIT"
    soft = celeryconfig.worker_soft_shutdown_timeout
    assert soft > 0 and celeryconfig.task_acks_late and celeryconfig.task_reject_on_worker_lost
    assert _seconds(spec["stop_grace_period"]) >= soft + 15


def test_worker_pools_fit_their_work():
    pools = {
        name: _celery_command(spec)[1]["pool"].__module__.rsplit(".", 1)[-1] for name, spec in WORKERS.items()
    }
    assert pools["worker-scans"] == "prefork" and pools["worker-ingest"] == "prefork"  # CPU-bound
    assert pools["worker-webhooks"] == "thread"  # network-bound: many deliveries in flight


def test_exactly_one_beat():
    beats = [name for name, spec in SERVICES.items() if spec.get("command") and "beat" in spec["command"][:4]]
    assert beats == ["beat"]
    subcommand, options, global_options = _celery_command(SERVICES["beat"])
    assert subcommand == "beat" and global_options["app"] == "workers.beat"
    assert options["schedule"].startswith("/tmp/")  # writable by the unprivileged user
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert celeryconfig.beat_schedule, "beat has nothing to send"
    for entry in celeryconfig.beat_schedule.values():
        assert entry["task"] in TASK_QUEUES


def test_flower_requires_authentication_from_the_environment():
    spec = SERVICES["flower"]
    subcommand, options, global_options = _celery_command(spec)
    assert subcommand == "flower" and global_options["app"] == "workers.app"
    import flower.options  # noqa: F401  (defines Flower's options on tornado's global parser)
    from tornado.options import Error as OptionsError
    from tornado.options import OptionParser
    from tornado.options import options as flower_options

    parser = OptionParser()  # a copy, so the global one stays untouched
    for name, option in flower_options._options.items():
        if name not in parser._options:
            parser.define(name, default=option.default, type=option.type, multiple=option.multiple)
    try:
        parser.parse_command_line(["flower", *options["tornado_argv"]])
    except OptionsError as exc:
        pytest.fail(f"flower rejects its compose arguments: {exc}")
    auth = spec["environment"].get("FLOWER_BASIC_AUTH") or parser.basic_auth
    assert auth, "flower must not run unauthenticated"
    assert re.fullmatch(r"\$\{FLOWER_USER:\?[^}]*\}:\$\{FLOWER_PASSWORD:\?[^}]*\}", auth), auth
    assert "FLOWER_UNAUTHENTICATED_API" not in spec["environment"]
    assert importlib.util.find_spec("flower") is not None


def test_flower_listens_on_the_hosts_loopback_unless_told_otherwise():
    """Its API revokes tasks and shuts workers down, behind basic auth over plain HTTP: published on every
    interface, anyone on the network could try the password and read it off the wire."""
    (published,) = SERVICES["flower"]["ports"]
    bind, host_port, container_port = published.rsplit(":", 2)
    assert bind == "${FLOWER_BIND:-127.0.0.1}" and host_port == container_port == "5555"


def _gunicorn(service: str) -> GunicornConfig:
    command = SERVICES[service]["command"]
    assert command[0] == "gunicorn"
    config = GunicornConfig()
    try:
        args = config.parser().parse_args(command[1:])
    except SystemExit:
        pytest.fail(f"gunicorn rejects the {service} command: {command}")
    for key, value in vars(args).items():
        if value is not None and key != "args":
            config.set(key.lower(), value)
    assert args.args == ["web.wsgi:app"]
    assert importlib.util.find_spec("web.wsgi") is not None
    config.worker_class  # noqa: B018  (imports the worker class: it must exist in the image)
    return config


def test_api_runs_gunicorn_with_threads_and_ws_with_gevent():
    api, ws = _gunicorn("api"), _gunicorn("ws")
    assert api.worker_class_str == "gthread" and api.threads > 1
    assert ws.worker_class_str == "gevent" and ws.worker_connections >= 1000
    assert api.bind != ws.bind, "ws is a separate server"
    for config in (api, ws):
        assert config.graceful_timeout > 0
    api_port = api.bind[0].rsplit(":", 1)[1]
    assert SERVICES["api"]["environment"]["INTERNAL_API_URL"] == f"http://api:{api_port}/api/v1"


def test_migrate_runs_once_and_everything_waits_for_it():
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["alembic", "upgrade", "head"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"'upgrade head' needs one head, the migrations have {heads}"
    for name, spec in APP_SERVICES.items():
        if name == "migrate":
            continue
        assert spec["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert spec["depends_on"]["redis"]["condition"] == "service_healthy", name


def test_long_running_services_have_healthchecks_and_restart_policies():
    for name, spec in LONG_RUNNING.items():
        check = spec.get("healthcheck")
        assert check and check["test"] and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert _seconds(check["interval"]) > 0 and _seconds(check["timeout"]) > 0, name
        assert spec["restart"] in ("unless-stopped", "always"), name
        assert "stop_grace_period" in spec, name


def test_app_roles_share_one_image_and_one_environment():
    text = COMPOSE_FILE.read_text()
    assert "&app-env" in text and "<<: *app-env" in text  # one anchor, merged everywhere
    reference = SERVICES["api"]["environment"]
    for name in SHARED_ENV:
        assert name in reference, name
    for name, spec in APP_SERVICES.items():
        assert spec["image"] == SERVICES["api"]["image"] and spec["build"] == ".", name
        env = spec["environment"]
        assert {key: env.get(key) for key in SHARED_ENV} == {key: reference[key] for key in SHARED_ENV}, name
    for secret in SECRETS:  # no default: compose refuses to start without it
        assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", reference[secret]), reference[secret]
    assert reference["ENV"] == "production"
    assert reference["DATABASE_URL"].startswith("postgresql+psycopg://")


def test_redis_keeps_the_queue_across_restarts():
    command = SERVICES["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert any(volume.endswith(":/data") for volume in SERVICES["redis"]["volumes"])


def test_rabbitmq_outlasts_the_task_time_limit():
    """RabbitMQ cuts off a consumer holding a message past ``consumer_timeout`` (default 30 min): with late
    acks that is a task still running, or a countdown retry still waiting, so it must outlast both."""
    rabbitmq = SERVICES["rabbitmq"]
    source, target = rabbitmq["volumes"][0].removesuffix(":ro").split(":")
    assert target.startswith("/etc/rabbitmq/conf.d/") and target.endswith(".conf")
    lines = (ROOT / source).read_text().splitlines()
    settings = dict(map(str.strip, line.split("=", 1)) for line in lines if "=" in line and line[0] != "#")
    consumer_timeout = int(settings["consumer_timeout"]) / 1000
    assert consumer_timeout == celeryconfig.UNACKED_MESSAGE_SECONDS
    assert celeryconfig.broker_transport_options["visibility_timeout"] == celeryconfig.UNACKED_MESSAGE_SECONDS
    longest_hold = max(
        celeryconfig.task_time_limit + celeryconfig.worker_soft_shutdown_timeout,
        RetryPolicy().max_delay_seconds + RetryPolicy().timeout_seconds,
    )
    assert consumer_timeout > longest_hold > celeryconfig.task_soft_time_limit


def test_dockerfile_builds_one_image_with_everything_the_roles_run():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = " ".join(line for line in dockerfile.splitlines() if line.startswith("COPY"))
    for path in ("common", "web", "workers", "migrations", "celeryconfig.py", "alembic.ini", "setup.cfg"):
        assert re.search(rf"\b{re.escape(path)}\b", copied), f"{path} is not copied into the image"
        assert (ROOT / path).exists(), path
    assert "'.[ops]'" in dockerfile
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    ops = setup["options.extras_require"]["ops"]
    assert re.search(r"^flower==[\d.]+$", ops, re.MULTILINE), ops
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE), "the image must not run as root"
    for role, spec in APP_SERVICES.items():
        program = spec["command"][0]
        assert program in ("gunicorn", "celery", "alembic"), role


def test_no_role_shares_a_source_volume_and_the_scans_worker_can_clone():
    """Multi-host shape: code arrives as repository scans or CI uploads, never through a shared mount."""
    for name, spec in APP_SERVICES.items():
        assert not spec.get("volumes"), f"{name} mounts {spec.get('volumes')}"
    assert "worker-scans" in SERVICES
    install = " ".join(line for line in (ROOT / "Dockerfile").read_text().splitlines() if "apt-get" in line)
    assert re.search(r"\bgit\b", install) and "openssh-client" in install, "the image cannot clone"


def test_compose_commands_catch_a_bad_option():
    """The parser used above really rejects what the programs would reject."""
    with pytest.raises(click.UsageError):
        _parse_celery(["-A", "workers.app", "worker", "--soft-shutdown-timeout", "60"])
    with pytest.raises(SystemExit):
        GunicornConfig().parser().parse_args(["--no-such-option", "web.wsgi:app"])
