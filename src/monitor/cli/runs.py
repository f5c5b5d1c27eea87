"""`monitor trigger` and `monitor status`: the commands that reach the project's Prefect server. Trigger asks it for
an ad hoc run of a deployment, its parameters checked first; status lists the runs it knows, with their counts."""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import json
import logging
import os
import sys
import time
from datetime import timezone
from pathlib import Path

import click

from monitor import warehouse
from monitor.cli.common import WAREHOUSE_OPTION, Failure, fail_on_domain_errors, load_config
from monitor.cli.query import render
from monitor.cli.serve import PREFECT_ENV, prefect_api, running_server
from monitor.counts import Outcome, RunCounts


def _parse_params(pairs: tuple[str, ...]) -> dict:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--param {pair!r} is not key=value: for example --param limit=10 or --param "
                           "sources='[\"bbc-world\"]'")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value  # a bare word: since=2026-11-01, sources=bbc-world
    if isinstance(params.get("sources"), str):
        params["sources"] = [params["sources"]]
    return params


def _flows() -> dict:
    """The flows this project deploys, by flow name."""
    from flows.ingest import ingest
    from flows.report import report

    return {f.name: f for f in (ingest, report)}


def check_parameters(flow, parameters: dict) -> None:
    """Refuse, in one line, parameters the flow would reject at run time: unknown names and values of the wrong
    type (the run would otherwise be created, then crash on the serving side where nobody sees why)."""
    from prefect.exceptions import ParameterTypeError

    known = list(inspect.signature(flow.fn).parameters)
    for name in parameters:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise BadInput(f"flow {flow.name!r} has no parameter {name!r}: {hint}its parameters are {', '.join(known)}")
    flow_log = logging.getLogger("prefect.flows")
    flow_log.disabled = True  # Prefect also logs the failure, with a pydantic dump; the one line below says it
    try:
        flow.validate_parameters(parameters)
    except ParameterTypeError as exc:
        detail = " ".join(str(exc).split()).removeprefix("Flow run received invalid parameters: ")
        raise BadInput(f"bad parameter value for flow {flow.name!r}: {detail.removeprefix('- ')}") from None
    finally:
        flow_log.disabled = False


def project_api(config_root: Path) -> str:
    """The Prefect API this project's commands talk to: PREFECT_API_URL, else the server `monitor serve` runs."""
    url = os.environ.get("PREFECT_API_URL") or running_server(config_root)
    if not url:
        raise Failure("no Prefect server for this project: start `monitor serve` (or set PREFECT_API_URL), or use "
                      "`monitor run` to run in this process")
    os.environ["PREFECT_API_URL"] = url
    for key, value in PREFECT_ENV.items():
        os.environ.setdefault(key, value)
    import prefect.context

    prefect.context.refresh_global_settings_context()  # checking the parameters imported Prefect before the URL was set
    return url


@click.command()
@click.argument("deployment")
@click.option("--param", "params", multiple=True, help="A flow parameter, key=value (repeatable); values are JSON "
              "when they parse (limit=10, dry_run=true), else text (since=2026-11-01).")
@click.option("--wait", is_flag=True, help="Wait for the run to finish; print its final state and summary.")
@click.pass_context
@fail_on_domain_errors
def trigger(ctx: click.Context, deployment: str, params: tuple[str, ...], wait: bool) -> None:
    """Start an ad hoc run of a deployment that `monitor serve` serves (found the way `monitor run` finds it, or
    through PREFECT_API_URL). Parameters are checked against the flow before the run is created.

    Example: monitor trigger ingest/ingest-hourly --param limit=20 --param since=2026-11-20 --wait
    """
    cfg = load_config(ctx)
    parameters = _parse_params(params)
    flow_name, sep, name = deployment.partition("/")
    flows = _flows()
    if not sep or not name or flow_name not in flows:
        raise BadInput(f"deployment {deployment!r} is not FLOW/NAME with a flow of this project "
                       f"({', '.join(flows)}): for example ingest/ingest-hourly or report/daily-report")
    check_parameters(flows[flow_name], parameters)
    api_url = project_api(cfg.root)
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run = run_deployment(name=deployment, parameters=parameters, timeout=0)
    except ObjectNotFound:
        served = ", ".join(_deployment_names()) or "none"
        raise Failure(f"no deployment {deployment!r} on {api_url}; served: {served}") from None
    click.echo(f"flow run {run.id} ({run.name}) for {deployment}: {run.state.name if run.state else 'scheduled'}")
    if not wait:
        return
    state = _wait_for(run.id)
    click.echo(f"{state.name}: {_one_line(state.message)}" if state.message else state.name)
    counts = _summaries([run.id]).get(str(run.id))
    if counts is not None:
        totals = count_totals(counts)
        click.echo(", ".join(f"{v} {k}" for k, v in totals.items()))
    if not state.is_completed():
        sys.exit(1)


class BadInput(Failure):
    """Bad input on the command line: one line, exit status 2 (like a usage error)."""

    exit_code = 2


WAIT_POLL_SECONDS = 2  # a run takes seconds to minutes; the server is local


def _wait_for(flow_run_id):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(flow_run_id)
            if run.state and run.state.is_final():
                return run.state
            time.sleep(WAIT_POLL_SECONDS)


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _deployment_names() -> list[str]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        flows = {f.id: f.name for f in client.read_flows()}
        return sorted(f"{flows.get(d.flow_id, '?')}/{d.name}" for d in client.read_deployments())


OUTCOME_FIELDS = {f.name for f in dataclasses.fields(Outcome)}  # the columns of the summary artifact's table


def _summaries(flow_run_ids: list) -> dict[str, RunCounts]:
    """The counts each ingest run published as its summary artifact, by flow run id. An artifact of a release
    before typed counts (rows of "outcome", "count") is left out: the run's warehouse rows have them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    from flows.ingest import SUMMARY_ARTIFACT

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[SUMMARY_ARTIFACT]), flow_run_id=ArtifactFilterFlowRunId(any_=flow_run_ids)))
    found = {str(a.flow_run_id): artifact_counts(json.loads(a.data) if isinstance(a.data, str) else a.data)
             for a in artifacts}
    return {flow_run_id: counts for flow_run_id, counts in found.items() if counts is not None}


def artifact_counts(table: list[dict] | None) -> RunCounts | None:
    """The counts of a summary artifact's table (one row per Outcome); None for a table of the older shape."""
    if not all(OUTCOME_FIELDS <= row.keys() for row in table or []):
        return None
    return RunCounts(tuple(Outcome(**{k: row[k] for k in OUTCOME_FIELDS}) for row in table or []))


def count_totals(counts: RunCounts) -> dict[str, int]:
    """A run's counts per outcome, summed as a person reads them."""
    return {"entries": counts.count("entries", "seen"), "new": counts.count("articles", "new"),
            "dups": counts.count("entries", "duplicate"), "rejected": counts.count(kind="rejected")}


STATUS_COLUMNS = ["started", "flow_run", "deployment", "state", "parameters", "seconds", "entries", "new", "dups",
                  "rejected", "slowest stages"]


@click.command()
@click.option("--last", "n", type=click.IntRange(min=1), default=10, show_default=True, help="How many runs.")
@WAREHOUSE_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_context
@fail_on_domain_errors
def status(ctx: click.Context, n: int, warehouse_path: Path | None, fmt: str) -> None:
    """Every run Prefect knows of for this project, newest first, whatever its outcome (completed, failed,
    crashed, cancelled, dry runs): its deployment (or ad hoc), parameters, seconds and counts, and its flow run
    id, the one the UI opens. Counts come from each run's summary artifact, else the warehouse's `runs` row.

    Example: monitor status --last 5
    """
    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    with prefect_api(ctx.obj["verbose"], cfg.root):
        runs = _flow_runs(n)
        counts = _summaries([r["id"] for r in runs]) if runs else {}
    stored = warehouse.stored_runs(path, [str(r["id"]) for r in runs])
    rows = []
    for run in runs:
        counted, stages = stored.get(str(run["id"]), (None, {}))
        found = counts.get(str(run["id"]), counted)
        totals = count_totals(found) if found is not None else dict.fromkeys(("entries", "new", "dups", "rejected"))
        slowest = ", ".join(f"{k} {v:g}s" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])[:3])
        rows.append((run["started"], str(run["id"]), run["deployment"], run["state"], run["parameters"],
                     run["seconds"], *totals.values(), slowest))
    if not rows and fmt == "table":
        click.echo("no runs yet: `monitor run` starts one")
        return
    click.echo(render(STATUS_COLUMNS, rows, fmt), nl=False)
    if fmt == "table":
        api = os.environ.get("PREFECT_API_URL") or running_server(cfg.root)
        ui = os.environ.get("PREFECT_UI_URL") or (api.removesuffix("/api") if api else "<`monitor serve`'s UI>")
        click.echo(f"open a run in the Prefect UI: {ui}/runs/flow-run/<flow_run>")


def _flow_runs(n: int) -> list[dict]:
    """The newest `n` runs of this project's flows, as rows for people."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=list(_flows()))),
                                     sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=n)
        names = {d.id: d.name for d in client.read_deployments()} if any(r.deployment_id for r in runs) else {}
    return [{"id": r.id, "started": _when(r.start_time or r.expected_start_time),
             "deployment": names.get(r.deployment_id, "?") if r.deployment_id else "ad hoc",
             "state": (r.state.name if r.state else "?") + (" (dry run)" if r.parameters.get("dry_run") else ""),
             "parameters": _brief(r.parameters), "seconds": round(r.total_run_time.total_seconds(), 1)}
            for r in runs]


def _when(moment) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _brief(parameters: dict) -> str:
    """The parameters a person set: paths and unset values left out."""
    return " ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in parameters.items()
                    if v not in (None, False, [], "auto") and k not in ("config_dir", "warehouse_path"))


COMMANDS = (trigger, status)
