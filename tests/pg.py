"""A throwaway PostgreSQL server for the tests that need one (issue 23): Debian's binaries, `initdb` into a
temporary folder as an unprivileged user, the server on a free port of 127.0.0.1, stopped at the end.

The server dies with the process that started it, even a SIGKILLed pytest: the kernel sends the postmaster
SIGQUIT (PR_SET_PDEATHSIG, asked for after the switch to the unprivileged user, which would otherwise clear it) and
the postmaster's own backends end once it is gone. Without the binaries the tests that use it are skipped, saying so.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# Debian's postgresql package (installed by .ci/run); PG_BIN overrides, e.g. for another major version.
BIN_DIRS = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")
USER = "nobody"  # initdb and postgres refuse to run as root; this user exists on every Debian system
ROLE = "monitor"  # the superuser role initdb creates (trust auth: loopback only, a throwaway cluster)
START_SECONDS = 60  # about 1 s on an idle machine; a loaded 2-core CI runner can take many times that
STOP_SECONDS = 20
# Small and fast: nothing here has to survive a crash, so no fsync; enough connections for Prefect's pool (its
# server opens several) plus a few DuckLake writers at once.
SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "200",
            "shared_buffers": "32MB", "listen_addresses": "127.0.0.1", "log_min_messages": "warning"}


def bin_dir() -> Path | None:
    """The folder with initdb and postgres, or None when PostgreSQL is not installed."""
    candidates = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else list(BIN_DIRS)
    for folder in map(Path, candidates):
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    return None


@dataclass(frozen=True)
class Postgres:
    """A running server: where it listens and how to make a database on it."""
    host: str
    port: int
    bin: Path

    def create_database(self, name: str) -> str:
        """Create database `name`; returns its libpq connection string (the form DuckLake's catalog takes)."""
        subprocess.run([str(self.bin / "createdb"), "-h", self.host, "-p", str(self.port), "-U", ROLE, name],
                       check=True, capture_output=True, timeout=60)
        return self.dsn(name)

    def dsn(self, database: str) -> str:
        return f"dbname={database} host={self.host} port={self.port} user={ROLE}"

    def sqlalchemy_url(self, database: str) -> str:
        """The URL form Prefect's PREFECT_API_DATABASE_CONNECTION_URL takes."""
        return f"postgresql+asyncpg://{ROLE}@{self.host}:{self.port}/{database}"

    def sql(self, database: str, statement: str) -> str:
        """Run one statement with psql; returns its unaligned output."""
        done = subprocess.run([str(self.bin / "psql"), "-h", self.host, "-p", str(self.port), "-U", ROLE, "-d",
                               database, "-At", "-c", statement], check=True, capture_output=True, text=True,
                              timeout=60)
        return done.stdout.strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def postgres():
    """Start a PostgreSQL server in a temporary folder; yields a `Postgres`; stops it and removes the folder,
    whatever happened. Skips the calling test when the binaries or the unprivileged user are missing."""
    folder = bin_dir()
    if folder is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to run PostgreSQL as another user")
    try:
        account = pwd.getpwnam(USER)
    except KeyError:
        pytest.skip(f"no user {USER!r} to run PostgreSQL as")
    home = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    data = home / "data"
    as_user: dict = {}
    if os.getuid() == 0:  # initdb refuses root: the data folder belongs to the unprivileged user
        os.chown(home, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    env = {"PATH": f"{folder}:/usr/bin:/bin", "HOME": str(home), "PGDATA": str(data), "LC_ALL": "C.UTF-8"}
    process = None
    try:
        subprocess.run([str(folder / "initdb"), "-D", str(data), "-U", ROLE, "--auth=trust", "-E", "UTF8",
                        "--no-sync", "--no-instructions"], env=env, cwd=home, check=True, capture_output=True,
                       timeout=120, **as_user)
        port = _free_port()
        options = [arg for key, value in {**SETTINGS, "port": str(port)}.items() for arg in ("-c", f"{key}={value}")]
        log = open(home / "server.log", "ab")  # noqa: SIM115 - the child keeps it
        # setpriv (util-linux) switches user and then asks the kernel for SIGQUIT, postgres' immediate shutdown,
        # when the parent ends; asked for before the switch, the switch would clear it. Then it becomes postgres.
        switch = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups"] \
            if as_user else ["setpriv"]
        process = subprocess.Popen([*switch, "--pdeathsig", "QUIT", "--", str(folder / "postgres"), "-D", str(data),
                                    "-k", str(home), *options], env=env, cwd=home, stdout=log,
                                   stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_SECONDS
        while not _ready(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {(home / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)
        server = Postgres("127.0.0.1", port, folder)
        for _ in range(int(START_SECONDS * 10)):  # accepting TCP is not yet accepting logins
            try:
                server.sql("postgres", "SELECT 1")
                break
            except subprocess.CalledProcessError:
                time.sleep(0.1)
        yield server
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown: clients are disconnected, not waited for
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(home, ignore_errors=True)
