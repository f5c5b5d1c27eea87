"""What every `monitor` command shares: the one-line failure, the config of the invocation, JSON values."""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path

import click

from monitor import config as config_mod
from monitor.config import ConfigError
from monitor.warehouse import WarehouseError, require


class Failure(click.ClickException):
    """One-line error, exit status 1."""


class QueryFailure(Failure):
    """A query the warehouse refused (bad SQL, a bad search, tables it lacks): exit status 2, as a usage error, so
    a script tells a wrong query from a failed run."""

    exit_code = 2


def warehouse_option(default: Path | None = None, help: str = "Warehouse file (default from settings.toml).",
                     show_default: bool = False):
    """The --warehouse option of every command, declared here once."""
    return click.option("--warehouse", "warehouse_path", type=click.Path(dir_okay=False, path_type=Path),
                        default=default, show_default=show_default, help=help)


WAREHOUSE_OPTION = warehouse_option()


def fail_on_domain_errors(func):
    """Turn the library's named exceptions into one error line and exit 1."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ConfigError, WarehouseError) as exc:
            raise Failure(str(exc)) from None
    return wrapper


def load_config(ctx: click.Context) -> config_mod.Config:
    return config_mod.load(ctx.obj["config_dir"])


def jsonable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value if isinstance(value, str | int | float | bool | type(None) | list | dict) else str(value)


def existing_warehouse(ctx: click.Context, warehouse_path: Path | None) -> tuple[config_mod.Config, Path]:
    """The config and the warehouse a command reads, failing in one line when there is no warehouse there."""
    cfg = load_config(ctx)
    path = cfg.warehouse_path(warehouse_path)
    require(path)
    return cfg, path
