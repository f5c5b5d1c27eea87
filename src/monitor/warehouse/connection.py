"""Opening the warehouse: DuckDB files and DuckLake catalogs, DuckDB's file lock and our run lock, migrations,
and the sandbox for readers' SQL. The only other DuckDB code is the rest of this package."""

from __future__ import annotations

import fcntl
import logging
import os
import random
import re
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from monitor.config import ENV_LAKE_DATA, LAKE_PREFIX, resource_path

log = logging.getLogger("monitor.warehouse")

# DuckDB lets one process write or many read, never both. Writes are short transactions, so a reader waits this
# long before saying so; the writer waits longer, since a failed load costs a whole run.
LOCK_WAIT_SECONDS = 15.0
LOCK_WAIT_WRITE_SECONDS = 300.0
LOCK_RETRY_FIRST, LOCK_RETRY_MAX = 0.05, 1.0  # seconds: back off from a quick retry to one a second
# An ingest run waits this long for an overlapping one to finish: longer than any run we have measured.
RUN_LOCK_WAIT_SECONDS = 1800.0
RUN_LOCK_POLL_SECONDS = 0.5
# Two DuckLake writers that overlap: the one that commits second fails with a transaction conflict (both updated the
# `lake_writes` row, migration 011) and runs its whole transaction again, on a fresh snapshot that holds the first
# one's rows. A load takes well under a second, so even several writers at once settle within a few retries; the
# waits grow from FIRST to MAX, with jitter so that two losers do not collide again in step.
CONFLICT_RETRIES = 12
CONFLICT_RETRY_FIRST, CONFLICT_RETRY_MAX = 0.05, 3.0  # seconds
# Two writers that create one new Postgres catalog at once: the second's CREATE TABLE fails ("duplicate key value
# violates unique constraint", or "already exists"); it waits like a lock and then finds the catalog made.
CATALOG_RACE = "Failed to initialize DuckLake"
CONFLICT = "conflict"  # in the message of DuckDB's TransactionException when DuckLake refuses a commit
MIGRATIONS = "warehouse/migrations"  # NNN_name.sql, applied in order, each once
VIEWS = "warehouse/views.sql"  # derived views, replaced on every open for writing


class WarehouseError(Exception):
    """The warehouse cannot be opened or written; the message names the file and the fix."""


class QueryError(Exception):
    """A user's SQL failed; the message is DuckDB's."""


def is_lake(path: Path | str) -> bool:
    """Whether the warehouse is a DuckLake catalog ("ducklake:<catalog>") rather than a DuckDB file."""
    return str(path).startswith(LAKE_PREFIX)


def lake_catalog_file(path: Path | str) -> Path | None:
    """A DuckLake warehouse's catalog file, when the catalog is a local DuckDB file (None for Postgres and the like)."""
    catalog = str(path)[len(LAKE_PREFIX):]
    return None if re.match(r"^[a-z]+:", catalog) else Path(catalog)


def exists(path: Path) -> bool:
    """Whether the warehouse has been created (for a remote DuckLake catalog: assumed so)."""
    if is_lake(path):
        catalog = lake_catalog_file(path)
        return catalog is None or catalog.exists()
    return path.exists()


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """DuckDB draws a progress bar on stdout for statements over 2 s; a library's output belongs to its caller."""
    con.execute("SET enable_progress_bar = false")
    return con


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not is_lake(path):
        return _quiet(duckdb.connect(str(path), read_only=read_only))
    con = _quiet(duckdb.connect())  # in memory; the warehouse is the attached catalog
    try:
        con.execute("SET autoinstall_known_extensions = false")  # nothing is downloaded, ever
        con.execute(f"LOAD '{_ducklake_extension()}'")
        if str(path)[len(LAKE_PREFIX):].startswith("postgres:"):
            con.execute(f"LOAD '{_postgres_extension()}'")
        catalog = lake_catalog_file(path)
        data = os.environ.get(ENV_LAKE_DATA) or (f"{catalog}.files/" if catalog else None)
        options = [f"DATA_PATH '{_quote(data)}'"] if data else []
        if read_only:
            options.append("READ_ONLY")
        con.execute(f"ATTACH '{_quote(str(path))}' AS warehouse" + (f" ({', '.join(options)})" if options else ""))
        con.execute("USE warehouse")
    except BaseException:
        con.close()
        raise
    return con


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _ducklake_extension() -> str:
    """The DuckLake extension shipped on PyPI for this exact DuckDB version (nothing is downloaded)."""
    try:
        import duckdb_extension_ducklake
    except ImportError:
        raise WarehouseError("a ducklake: warehouse needs the DuckLake extension: pip install 'monitor[lake]'") from None
    found = Path(duckdb_extension_ducklake.__file__).parent / "extensions" / f"v{duckdb.__version__}" / \
        "ducklake.duckdb_extension"
    if not found.exists():
        raise WarehouseError(f"the installed DuckLake extension does not match DuckDB {duckdb.__version__}; install "
                             f"duckdb-extension-ducklake=={duckdb.__version__}")
    return str(found)


def _postgres_extension() -> str:
    """DuckDB's postgres extension from PyPI (`duckdb-extension-postgres`), for a DuckLake catalog in Postgres.

    The package ships it as `postgres.duckdb_extension`, but DuckDB derives the entry point it looks for from the
    file name and the extension's is `postgres_scanner`; so it is loaded through a link by that name, in a folder
    of this user's under the temporary directory."""
    try:
        import duckdb_extension_postgres
    except ImportError:
        raise WarehouseError("a ducklake:postgres: warehouse needs DuckDB's postgres extension: "
                             "pip install 'monitor[lake]'") from None
    shipped = Path(duckdb_extension_postgres.__file__).parent / "extensions" / f"v{duckdb.__version__}" / \
        "postgres.duckdb_extension"
    if not shipped.exists():
        raise WarehouseError(f"the installed postgres extension does not match DuckDB {duckdb.__version__}; install "
                             f"duckdb-extension-postgres=={duckdb.__version__}")
    folder = Path(tempfile.gettempdir()) / f"monitor-duckdb-{os.getuid()}" / f"v{duckdb.__version__}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.parent.stat().st_uid != os.getuid():
        raise WarehouseError(f"{folder.parent} belongs to another user; remove it")
    link = folder / "postgres_scanner.duckdb_extension"
    if not link.exists() or link.resolve() != shipped.resolve():
        spare = folder / f".{os.getpid()}.link"
        spare.unlink(missing_ok=True)
        spare.symlink_to(shipped)
        spare.replace(link)  # atomic: a process loading it at the same moment sees the old link or the new one
    return str(link)


T = TypeVar("T")


def is_conflict(exc: BaseException) -> bool:
    """Whether DuckLake refused a commit because another transaction changed the same thing first."""
    return isinstance(exc, duckdb.TransactionException) and CONFLICT in str(exc).lower()


def transaction(con: duckdb.DuckDBPyConnection, path: Path, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """Run `work(con)` in one write transaction and commit; returns what it returned. On a DuckLake warehouse the
    transaction first claims the `lake_writes` row, so two overlapping writes conflict at commit instead of both
    inserting the same new keys; the loser rolls back and runs `work` again (see `retry_conflicts`), when its
    inserts, which skip keys already held, see the winner's rows. Other errors propagate after a rollback."""
    return retry_conflicts(path, lambda: _attempt(con, is_lake(path), work))


def _attempt(con: duckdb.DuckDBPyConnection, lake: bool, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """One try of `transaction`."""
    con.execute("BEGIN TRANSACTION")
    try:
        if lake:
            con.execute("UPDATE lake_writes SET writes = writes + 1, last_write = now()")
        result = work(con)
        con.execute("COMMIT")
        return result
    except BaseException:  # a work function's own error (a bad watch query) leaves no transaction open either
        _rollback(con)
        raise


def retry_conflicts(path: Path, work: Callable[[], T]) -> T:
    """Run `work()` again while DuckLake reports that another writer committed a conflicting change first, up to
    CONFLICT_RETRIES times, waiting a little longer each time; `work` must be safe to repeat (a whole transaction,
    or the migrations, which skip what is done)."""
    delay = CONFLICT_RETRY_FIRST
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            return work()
        except duckdb.Error as exc:
            if not is_conflict(exc) or attempt == CONFLICT_RETRIES:
                raise
            log.info("%s: another writer committed first; retrying (%d)", path, attempt + 1)
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, CONFLICT_RETRY_MAX)
    raise AssertionError("unreachable")


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; while another process holds DuckDB's file lock (a flow's load, a long query), wait and
    retry up to LOCK_WAIT_SECONDS (readers) or LOCK_WAIT_WRITE_SECONDS (the writer)."""
    budget = LOCK_WAIT_SECONDS if read_only else LOCK_WAIT_WRITE_SECONDS
    deadline, delay, warned = time.monotonic() + budget, LOCK_RETRY_FIRST, False
    while True:
        try:
            return _open(path, read_only)
        except duckdb.InvalidInputException as exc:  # a remote catalog (Postgres) that no writer has made yet
            if "does not exist" not in str(exc):
                raise
            raise WarehouseError(f"no warehouse at {path}; run `monitor run` first") from None
        except duckdb.Error as exc:  # ATTACH reports a locked catalog file as a binder error
            first = str(exc).splitlines()[0]
            if first.startswith(CATALOG_RACE) and ("already exists" in str(exc) or "duplicate key" in str(exc)):
                log.info("%s: another writer is creating the catalog; waiting for it", path)  # then it exists
            elif not isinstance(exc, (duckdb.IOException, duckdb.BinderException)):
                raise
            elif "lock" not in first.lower():
                raise WarehouseError(f"cannot open {path}: {first}") from None
            if time.monotonic() + delay > deadline:
                raise WarehouseError(
                    f"{path} is still locked by another process after {budget:g} s (a flow loading, or a long "
                    "query); try again when it ends") from None
            if not warned:
                log.warning("%s is locked by another process; retrying for up to %g s", path, budget)
                warned = True
            time.sleep(delay)
            delay = min(delay * 2, LOCK_RETRY_MAX)


def _open_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    """Create the warehouse file if needed and apply the schema (idempotent); returns the connection."""
    folder = (lake_catalog_file(path) or Path(".")).parent if is_lake(path) else path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"cannot create {folder}: {exc.strerror}; choose another --warehouse") from None
    con = _connect(path, read_only=False)
    try:
        retry_conflicts(path, lambda: migrate(con, lake=is_lake(path)))
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"migrating {path} failed and was rolled back: {str(exc).splitlines()[0]}") from None
    return con


@contextmanager
def run_lock(path: Path, wait_seconds: float | None = None):
    """Hold the warehouse's run lock (a file beside it) for the length of an ingest run, so two overlapping runs
    (a schedule and an ad hoc trigger) take turns instead of planning the same pages twice. Waits up to
    RUN_LOCK_WAIT_SECONDS, then raises a one-line WarehouseError."""
    wait = RUN_LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    if is_lake(path) and lake_catalog_file(path) is None:
        yield  # a shared catalog (Postgres): serialise runs with a Prefect concurrency limit instead (docs/scaling.md)
        return
    beside = lake_catalog_file(path) if is_lake(path) else path
    lock_path = beside.with_name(beside.name + ".run-lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+")  # noqa: SIM115 - held open for the whole run, closed below
    except OSError as exc:
        raise WarehouseError(f"cannot create {lock_path}: {exc.strerror}; choose another --warehouse") from None
    deadline, warned = time.monotonic() + wait, False
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseError(f"another run is still using {path} after {wait:g} s; this run was not "
                                         "started, nothing was changed") from None
                if not warned:
                    log.warning("another run is using %s; waiting up to %g s for it to finish", path, wait)
                    warned = True
                time.sleep(RUN_LOCK_POLL_SECONDS)
        yield
    finally:
        handle.close()  # closing releases the lock


def migrations() -> list[tuple[int, str, Path]]:
    """The schema migrations shipped with this release: (version, name, file), in order."""
    found = []
    for file in sorted(resource_path(MIGRATIONS).glob("*.sql")):
        number, _, name = file.stem.partition("_")
        found.append((int(number), name, file))
    return found


def migrate(con: duckdb.DuckDBPyConnection, lake: bool = False) -> list[int]:
    """Apply every migration the warehouse has not had, each in its own transaction with its version recorded,
    then (re)create the views. Returns the versions applied now. On DuckLake, which has no key constraints, the
    migrations run without them; the writes below never rely on them."""
    adapt = _without_keys if lake else (lambda sql: sql)
    con.execute(adapt("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                      "applied_at TIMESTAMPTZ NOT NULL)"))
    con.execute("ALTER TABLE schema_version ADD COLUMN IF NOT EXISTS name TEXT")
    # Warehouses made before migrations recorded version 1 with no name; their 001 is re-applied (it is idempotent),
    # since "version 1" then meant whichever tables that release had.
    done = {v for (v,) in con.execute("SELECT version FROM schema_version WHERE name IS NOT NULL").fetchall()}
    applied = []
    for version, name, file in migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(adapt(file.read_text(encoding="utf-8")))
            con.execute("DELETE FROM schema_version WHERE version = ?", [version])
            con.execute("INSERT INTO schema_version (version, applied_at, name) VALUES (?, now(), ?)", [version, name])
            con.execute("COMMIT")
        except duckdb.Error:
            _rollback(con)
            raise
        log.info("warehouse migrated to schema version %d (%s)", version, name)
        applied.append(version)
    views = resource_path(VIEWS).read_text(encoding="utf-8")
    if lake:  # all views in one transaction, in turn with other writers: a reader never sees some of them missing
        _attempt(con, True, lambda c: c.execute(views))
    else:
        con.execute(views)
    return applied


def _without_keys(sql: str) -> str:
    """A migration's SQL for DuckLake: the same tables without PRIMARY KEY constraints."""
    sql = re.sub(r",\s*PRIMARY KEY\s*\([^)]*\)", "", sql)
    return re.sub(r"\s+PRIMARY KEY\b", "", sql)


def schema_version(path: Path) -> int:
    """The newest migration applied to the warehouse at `path` (0 for one made before migrations)."""
    with read_only(path) as con:
        try:
            return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
        except duckdb.CatalogException:
            return 0


def require(path: Path) -> None:
    """Raise the one-line WarehouseError every reader gives when there is no warehouse at `path`."""
    if not exists(path):
        raise WarehouseError(f"no warehouse at {path}; run `monitor run` or `monitor demo` first, or pass --warehouse")


def read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to an existing warehouse."""
    require(path)
    return _connect(path, read_only=True)


def _sandbox(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Confine a reader's SQL to the warehouse: a read-only connection can still COPY to files, ATTACH another
    database or install extensions, so external access is switched off and the setting locked. A DuckLake
    warehouse keeps read access to its own data folder, where its Parquet files are."""
    if is_lake(path):
        (data,) = con.execute("SELECT value FROM __ducklake_metadata_warehouse.ducklake_metadata "
                              "WHERE key = 'data_path'").fetchone()
        con.execute("SET allowed_directories = ?", [[data]])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if the connection still can: after a fatal error (a full disk at checkpoint) DuckDB refuses even
    that, and its write-ahead log decides on the next open whether the transaction counts, as a whole."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
