"""`monitor serve` and `monitor trigger`: the scheduled side. Serve starts a local Prefect server when no
PREFECT_API_URL is set (Prefect schedules need a running server), then serves the deployments of
flows/deployments.py until Ctrl-C; trigger asks the server for an ad hoc run of one deployment."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import click

from monitor.cli.common import Failure, fail_on_domain_errors, load_config

# Offline, no telemetry; the runner checks for due runs this often (Prefect's default is 10 s).
PREFECT_ENV = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_RUNNER_POLL_FREQUENCY": "5"}
SERVER_START_SECONDS = 60  # measured healthy in about 6 s offline; a cold disk can take several times that
SERVER_STOP_SECONDS = 15
UNFINISHED = ("RUNNING", "PENDING", "CANCELLING")
ADDRESS_FILE = "server.json"  # in the server's home while it serves: {"api_url": ..., "pid": ...}


def server_home(config_root: Path) -> Path:
    """Where `monitor serve` keeps its Prefect server's data: .monitor/prefect beside config/."""
    return config_root.parent / ".monitor" / "prefect"


def running_server(config_root: Path) -> str | None:
    """The API URL of the Prefect server `monitor serve` runs for this project, if it is up and healthy."""
    try:
        url = json.loads((server_home(config_root) / ADDRESS_FILE).read_text())["api_url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if isinstance(url, str) and url.startswith("http://127.0.0.1:") and healthy(url) else None


class LocalServer:
    """A Prefect server on 127.0.0.1 with its database under `home`, as a child process."""

    def __init__(self, home: Path, port: int | None = None) -> None:
        self.home, self.port = home, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.process: subprocess.Popen | None = None

    def start(self) -> "LocalServer":
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **PREFECT_ENV, "PREFECT_HOME": str(self.home)}
        env.pop("PREFECT_API_URL", None)
        log = open(self.home / "server.log", "ab")  # noqa: SIM115 - the child keeps it; closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failure(f"the Prefect server exited at start; see {self.home / 'server.log'}")
            if healthy(self.url):
                # `monitor run` beside us finds the server here and reports to it instead of starting its own
                (self.home / ADDRESS_FILE).write_text(json.dumps({"api_url": self.url, "pid": self.process.pid}))
                return self
            time.sleep(0.5)
        self.stop()
        raise Failure(f"the Prefect server was not healthy after {SERVER_START_SECONDS} s; see "
                      f"{self.home / 'server.log'}")

    def stop(self) -> None:
        (self.home / ADDRESS_FILE).unlink(missing_ok=True)
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:  # noqa: S310 - our own loopback URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def cancel_unfinished(deployment_names: list[str]) -> int:
    """Mark the served deployments' runs that were cut off (running, pending) as cancelled; returns how many."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (DeploymentFilter, DeploymentFilterName, FlowRunFilter,
                                                FlowRunFilterState, FlowRunFilterStateType)
    from prefect.client.schemas.objects import StateType
    from prefect.states import Cancelled

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType(s) for s in UNFINISHED]))),
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=deployment_names)))
        for run in runs:
            client.set_flow_run_state(run.id, Cancelled(message="monitor serve stopped"), force=True)
    return len(runs)


@click.command()
@click.option("--warehouse", "warehouse_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Warehouse file (default from settings.toml).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port of the local Prefect server (default: a free one). Ignored when PREFECT_API_URL is set.")
@click.option("--report-out", type=click.Path(dir_okay=False), default=None,
              help="Where the daily report goes (default: reports/report.html beside config/).")
@click.pass_context
@fail_on_domain_errors
def serve(ctx: click.Context, warehouse_path: Path | None, port: int | None, report_out: str | None) -> None:
    """Run the schedules: ingest once per schedule group in sources.toml, and the daily report. Starts a local
    Prefect server first unless PREFECT_API_URL points at one. Ctrl-C stops everything.

    Example: monitor serve
    """
    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path).resolve()
    from monitor import warehouse

    warehouse.init(path)  # fail fast on an unusable warehouse, before any server starts
    server = LocalServer(server_home(cfg.root), port) if not os.environ.get("PREFECT_API_URL") else None
    served: list = []
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop takes the same clean path as Ctrl-C
    try:  # from here on, Ctrl-C at any moment stops what was started
        if server:
            server.start()
            os.environ["PREFECT_API_URL"] = server.url
            click.echo(f"started a Prefect server at {server.url.removesuffix('/api')} (data in {server.home})")
        for key, value in PREFECT_ENV.items():
            os.environ.setdefault(key, value)
        from prefect import serve as prefect_serve

        from flows.deployments import deployments

        served = deployments(cfg, str(cfg.root), str(path), report_out)
        for d in served:
            when = ", ".join(str(s.schedule) for s in d.schedules)
            click.echo(f"serving {d.flow_name}/{d.name}: {when}")
        click.echo("Ctrl-C stops; `monitor trigger ingest/<deployment> --param limit=10` starts an ad hoc run")
        prefect_serve(*served, print_starting_message=False)
    except KeyboardInterrupt:
        pass
    finally:
        if served:
            try:
                cancelled = cancel_unfinished([d.name for d in served])
                if cancelled:
                    click.echo(f"marked {cancelled} interrupted runs cancelled")
            except Exception as exc:  # noqa: BLE001 - the server may already be gone; stopping must still finish
                click.echo(f"could not check for interrupted runs: {exc}", err=True)
        if server:
            server.stop()
            click.echo("stopped the Prefect server")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _parse_params(pairs: tuple[str, ...]) -> dict:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise Failure(f"--param {pair!r} is not key=value: for example --param limit=10 or --param "
                          "sources='[\"bbc-world\"]'")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value  # a bare word: since=2026-11-01, sources=bbc-world
    if isinstance(params.get("sources"), str):
        params["sources"] = [params["sources"]]
    return params


@click.command()
@click.argument("deployment")
@click.option("--param", "params", multiple=True, help="A flow parameter, key=value (repeatable); values are JSON "
              "when they parse (limit=10, dry_run=true), else text (since=2026-11-01).")
@click.option("--wait", is_flag=True, help="Wait for the run to finish and print its final state.")
@fail_on_domain_errors
def trigger(deployment: str, params: tuple[str, ...], wait: bool) -> None:
    """Start an ad hoc run of a served deployment through the Prefect server (PREFECT_API_URL).

    Example: monitor trigger ingest/ingest-hourly --param limit=20 --param since=2026-11-20
    """
    if not os.environ.get("PREFECT_API_URL"):
        raise Failure("PREFECT_API_URL is not set: point it at the server `monitor serve` printed, or use "
                      "`monitor run` to run in this process")
    parameters = _parse_params(params)
    for key, value in PREFECT_ENV.items():
        os.environ.setdefault(key, value)
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run = run_deployment(name=deployment, parameters=parameters, timeout=None if wait else 0)
    except ObjectNotFound:
        raise Failure(f"no deployment {deployment!r} on {os.environ['PREFECT_API_URL']}: names look like "
                      "ingest/ingest-hourly or report/daily-report") from None
    state = run.state.name if run.state else "unknown"
    click.echo(f"flow run {run.id} ({run.name}) for {deployment}: {state}")
    if wait and run.state and not run.state.is_completed():
        sys.exit(1)


COMMANDS = (serve, trigger)
