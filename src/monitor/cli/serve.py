"""`monitor serve`: the scheduled side. Serve starts a local Prefect server when no PREFECT_API_URL is set (Prefect
schedules need a running server), then serves the deployments of flows/deployments.py until Ctrl-C. Also the
Prefect server every command that runs flows reports to (`prefect_api`), and the servers' lifetimes."""

from __future__ import annotations

import _thread
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import click

from monitor.cli.common import WAREHOUSE_OPTION, Failure, fail_on_domain_errors, load_config
from monitor.cli.sources import local_newsroom

# Offline, no telemetry; the runner checks for due runs this often (Prefect's default is 10 s).
PREFECT_ENV = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_RUNNER_POLL_FREQUENCY": "5"}
# Prefect settings for every flow the CLI runs in process: the above, and quiet unless -v.
PREFECT_DEFAULTS = {**PREFECT_ENV, "PREFECT_LOGGING_LEVEL": "WARNING"}
SERVER_START_SECONDS = 120  # healthy in about 6 s offline; over 60 s seen on a loaded 2-core machine
SERVER_STOP_SECONDS = 15
# Ctrl-C (or SIGTERM) stops serve within this many seconds whatever Prefect's runner is doing: its own shutdown can
# wait on a flow run mid-flight, and once in the full test suite it did not end within 60 s. Past the deadline the
# Prefect server is stopped and the process exits.
SHUTDOWN_SECONDS = 30
# Prefect's runner can swallow the KeyboardInterrupt a stop raises (in a full-suite run it landed in a flow run's
# start-up, was logged as that run's failure, and serve went on until the deadline): the stop is raised again this
# often until serve is leaving.
REINTERRUPT_SECONDS = 2
UNFINISHED = ("RUNNING", "PENDING", "CANCELLING")
# The library logs with the standard logging module; this sends its `monitor.*` records to each run's log in the UI
# (prefect.toml says the same, but only for commands started in the project folder).
LOG_ENV = {"PREFECT_LOGGING_EXTRA_LOGGERS": "monitor"}
ADDRESS_FILE = "server.json"  # in the server's home while it serves: {"api_url": ..., "pid": ...}

# What the Prefect server we start keeps, so that its memory and database stay flat over months of schedules
# (issue 23; measured in docs/scaling.md, "Prefect's server over time"). The environment wins over each of these.
# Task-run state events were 3 of every 4 rows and most of the bytes of the database in the soak (about 100 events,
# 1 MB, a run): their content is in the task_run and task_run_state tables too, so the event feed keeps them one
# hour. Prefect's states (prefect.client.schemas.objects.StateType plus its named states) name the event types.
TASK_RUN_EVENTS_KEPT_SECONDS = 3600
TASK_RUN_STATE_NAMES = ("Scheduled", "Late", "AwaitingRetry", "AwaitingConcurrencySlot", "Pending", "Running",
                        "Retrying", "Paused", "Suspended", "Completed", "Cached", "RolledBack", "Failed", "Crashed",
                        "Cancelling", "Cancelled", "TimedOut")
SERVER_SETTINGS = {
    # monitor defines no automations: the triggers service would only hold events' resources in memory for them
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    # other events (flow-run states, deployments, artifacts) a day: the event feed is for looking into recent runs
    "PREFECT_SERVER_EVENTS_RETENTION_PERIOD": "P1D",  # an ISO 8601 duration: this setting takes no seconds
    "PREFECT_SERVER_SERVICES_DB_VACUUM_EVENT_RETENTION_OVERRIDES": json.dumps(
        {**{f"prefect.task-run.{name}": TASK_RUN_EVENTS_KEPT_SECONDS for name in TASK_RUN_STATE_NAMES},
         "prefect.flow-run.heartbeat": TASK_RUN_EVENTS_KEPT_SECONDS}),
    # finished flow runs (with their task runs, states and, later, logs) a week: the warehouse's `runs` table is
    # the lasting record of every run (`monitor status`); Prefect's default keeps them for ever
    "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,flow_runs",
    "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": str(7 * 24 * 3600),
    # the clean-up every 10 minutes (Prefect's default is hourly), so at most that much more than the above builds up
    "PREFECT_SERVER_SERVICES_DB_VACUUM_LOOP_SECONDS": "600",
}


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
    """A Prefect server on 127.0.0.1 with its database under `home`, as a child process that dies with this one.

    `ui=True` is the full server `monitor serve` runs (UI, scheduler, services); `ui=False` is the lighter server
    Prefect itself starts for a flow run when none is configured (its "temporary server", the same uvicorn
    command), but ours to stop: Prefect's is only stopped at a clean exit and outlived a SIGKILLed `monitor run`."""

    def __init__(self, home: Path, port: int | None = None, ui: bool = True) -> None:
        self.home, self.port, self.ui = home, port or free_port(), ui
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.process: subprocess.Popen | None = None
        self.advertised = False

    def environment(self) -> dict[str, str]:
        """The server's environment: its home, its address, what it keeps (SERVER_SETTINGS, unless the environment
        says otherwise), and the API URL its UI pages call (the UI otherwise calls port 4200 whatever port the
        server is on; PREFECT_UI_API_URL, when set, wins)."""
        env = {**SERVER_SETTINGS, **os.environ, **PREFECT_ENV, "PREFECT_HOME": str(self.home),
               "PREFECT_SERVER_API_HOST": "127.0.0.1",
               "PREFECT_SERVER_API_PORT": str(self.port),
               "PREFECT_UI_API_URL": os.environ.get("PREFECT_UI_API_URL") or self.url}
        env.pop("PREFECT_API_URL", None)
        if not self.ui:  # what prefect.server.api.server.SubprocessASGIServer sets for its temporary server
            env.update({"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"})
        return env

    def command(self) -> list[str]:
        """The server's command line, run under `monitor.lifeline` so that it ends when this process does."""
        address = ["--host", "127.0.0.1", "--port", str(self.port)]
        server = (["prefect", "server", "start", *address] if self.ui else
                  ["uvicorn", "--factory", "prefect.server.api.server:create_app", *address, "--log-level", "error",
                   "--lifespan", "on"])
        return [sys.executable, "-m", "monitor.lifeline", str(os.getpid()), *server]

    def start(self, advertise: bool = True) -> "LocalServer":
        """Start the server and wait until it is healthy; `advertise` leaves its address for `monitor run`."""
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home / "server.log", "ab")  # noqa: SIM115 - the child keeps it; closed with the process
        # Its own session: Ctrl-C in the terminal reaches `monitor`, which stops the server after marking runs.
        self.process = subprocess.Popen(self.command(), env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failure(f"the Prefect server exited at start; see {self.home / 'server.log'}")
            if healthy(self.url):
                if advertise:  # `monitor run` beside us finds the server here and reports to it
                    (self.home / ADDRESS_FILE).write_text(json.dumps({"api_url": self.url, "pid": self.process.pid}))
                self.advertised = advertise
                return self
            time.sleep(0.2)
        self.stop()
        raise Failure(f"the Prefect server was not healthy after {SERVER_START_SECONDS} s; see "
                      f"{self.home / 'server.log'}")

    def stop(self) -> None:
        if self.advertised:
            (self.home / ADDRESS_FILE).unlink(missing_ok=True)
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@contextmanager
def prefect_api(verbose: int, config_root: Path | None = None):
    """Set this CLI's Prefect defaults and choose the server the flow reports to, for the duration of the block.

    PREFECT_API_URL (or a Prefect profile naming a server) wins; else the server `monitor serve` runs for this
    project, when there is one (the run then shows beside the scheduled ones, and skips a server start); else a
    temporary server on the project's Prefect database, started here as our child so that it ends with this
    process, even a SIGKILLed one (Prefect's own temporary server outlived that)."""
    defaults = {**PREFECT_DEFAULTS, **LOG_ENV, **({"PREFECT_LOGGING_LEVEL": "INFO"} if verbose else {})}
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    if os.environ.get("PREFECT_API_URL") or config_root is None:
        yield
        return
    if url := running_server(config_root):
        os.environ["PREFECT_API_URL"] = url
        click.echo(f"reporting to the Prefect server of `monitor serve` at {url.removesuffix('/api')}", err=True)
        yield
        return
    import prefect.context
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:  # a profile, or a test harness, names the server
        yield
        return
    server = LocalServer(server_home(config_root), ui=False).start(advertise=False)
    os.environ["PREFECT_API_URL"] = server.url
    prefect.context.refresh_global_settings_context()  # Prefect read its settings at import, before the URL was set
    try:
        yield
    finally:
        drain_to_server()
        os.environ.pop("PREFECT_API_URL", None)
        prefect.context.refresh_global_settings_context()
        server.stop()


# How long the logs and events a run left queued may take to reach the temporary server before it stops. Sent after
# it stopped, Prefect's workers retried the connection for 75-80 s before giving up, and `monitor run` waited for them
# (seen in about half the runs of benchmarks/reliability.py, whose runs end on a failed feed retry's logs).
DRAIN_SECONDS = 10


def drain_to_server() -> None:
    """Send what Prefect's log and event workers still hold while the server is up."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=DRAIN_SECONDS)


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


def describe(schedule) -> str:
    """A Prefect schedule in words: 'every 1h', 'cron 0 6 * * * (UTC)'."""
    interval = getattr(schedule, "interval", None)
    if interval is not None:
        seconds = int(interval.total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
            if seconds >= size and seconds % size == 0:
                return f"every {seconds // size}{unit}"
        return f"every {seconds}s"
    cron = getattr(schedule, "cron", None)
    return f"cron {cron} ({schedule.timezone or 'UTC'})" if cron else type(schedule).__name__


def startup_block(ui_url: str, api_url: str, where: str, served: list) -> str:
    """What serve prints once it is up: where the UI and the API are, and what runs when."""
    width = max(len(f"{d.flow_name}/{d.name}") for d in served) if served else 0
    lines = [f"Prefect UI   {ui_url}", f"Prefect API  {api_url}  ({where})", "deployments:"]
    lines += [f"  {f'{d.flow_name}/{d.name}':<{width}}  {', '.join(describe(s.schedule) for s in d.schedules)}"
              for d in served]
    example = next((f"{d.flow_name}/{d.name}" for d in served if d.flow_name == "ingest"), "ingest/<deployment>")
    lines.append(f"Ctrl-C stops; `monitor trigger {example} --param limit=10` starts an ad hoc run")
    return "\n".join(lines)


@click.command()
@WAREHOUSE_OPTION
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port of the local Prefect server (default: a free one). Ignored when PREFECT_API_URL is set.")
@click.option("--report-out", type=click.Path(dir_okay=False), default=None,
              help="Where the daily report goes (default: reports/report.html beside config/).")
@click.pass_context
@fail_on_domain_errors
def serve(ctx: click.Context, warehouse_path: Path | None, port: int | None, report_out: str | None) -> None:
    """Run the schedules: ingest once per schedule group in sources.toml, and the daily report. Starts a local
    Prefect server first unless PREFECT_API_URL points at one. Ctrl-C stops everything.

    Example: monitor serve --port 4200
    """
    cfg = load_config(ctx)
    from monitor import warehouse

    path = cfg.warehouse_path(warehouse_path)  # absolute already; resolving "ducklake:..." made it a file in cwd
    path = path if warehouse.connection.is_lake(path) else path.resolve()

    warehouse.init(path)  # fail fast on an unusable warehouse, before any server starts
    server = LocalServer(server_home(cfg.root), port) if not os.environ.get("PREFECT_API_URL") else None
    served: list = []
    deadline: list[threading.Timer] = []
    leaving = threading.Event()  # set once serve has left Prefect's runner

    def reinterrupt() -> None:
        while not leaving.wait(REINTERRUPT_SECONDS):
            _thread.interrupt_main(signal.SIGINT)  # a no-op once the clean-up ignores SIGINT

    def hard_stop() -> None:
        if server:
            server.stop()
        click.echo(f"stopped serving; Prefect's runner had not stopped after {SHUTDOWN_SECONDS} s, so it was cut off")
        os._exit(130)

    def interrupt(signum, frame) -> None:
        if not deadline:
            deadline.append(threading.Timer(SHUTDOWN_SECONDS, hard_stop))
            deadline[0].daemon = True
            deadline[0].start()
            threading.Thread(target=reinterrupt, name="serve-stop", daemon=True).start()
        if leaving.is_set():
            return
        raise KeyboardInterrupt

    # a service manager's stop (SIGTERM) takes the same clean path as Ctrl-C, under the same deadline
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    stopped: list[str] = []
    try:  # from here on, Ctrl-C at any moment stops what was started
        if server:
            server.start()
            os.environ["PREFECT_API_URL"] = server.url
            os.environ.setdefault("PREFECT_UI_URL", server.url.removesuffix("/api"))  # the links Prefect logs
        api_url = os.environ["PREFECT_API_URL"]
        ui_url = os.environ.get("PREFECT_UI_URL") or api_url.removesuffix("/api")
        for key, value in {**PREFECT_ENV, **LOG_ENV}.items():
            os.environ.setdefault(key, value)
        from prefect import serve as prefect_serve

        from flows.deployments import deployments

        served = deployments(cfg, str(cfg.root), str(path), report_out)
        where = f"data in {server.home}" if server else "PREFECT_API_URL"
        click.echo(startup_block(ui_url, api_url, where, served))
        with local_newsroom(list(cfg.sources.source)):  # the shipped sources.toml polls the bundled demo newsroom
            prefect_serve(*served, print_starting_message=False)
    except KeyboardInterrupt:
        leaving.set()
    finally:
        leaving.set()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        if served:
            try:
                cancelled = cancel_unfinished([d.name for d in served])
                if cancelled:
                    stopped.append(f"marked {cancelled} interrupted runs cancelled")
            except Exception as exc:  # noqa: BLE001 - the server may already be gone; stopping must still finish
                stopped.append(f"could not check for interrupted runs ({type(exc).__name__})")
        if server:
            server.stop()
            stopped.append("stopped the Prefect server")
        click.echo("; ".join(["stopped serving", *stopped]))
        if deadline:
            deadline[0].cancel()


COMMANDS = (serve,)
