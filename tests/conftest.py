"""Shared fixtures: fresh databases on SQLite and PostgreSQL, the demo database.

PostgreSQL tests create and drop their own databases on the server given by
``TEST_PG_URL`` (default 127.0.0.1:5432, user postgres). With ``CI=true`` the
server is mandatory: an unreachable one fails the run. Elsewhere those tests
are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Backups (db.backups: before each upgrade, import, merge) go to the user's data folder:
# during the tests, never the real one.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="suivi-tests-donnees-")

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from db.database import Database, open_database  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_admin_engine():
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 3})


_pg_state: dict[str, str | None] = {}


def pg_unavailable_reason() -> str | None:
    if "reason" not in _pg_state:
        try:
            engine = _pg_admin_engine()
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["reason"] = None
        except Exception as exc:  # any failure means: no usable server
            _pg_state["reason"] = f"PostgreSQL injoignable ({PG_ADMIN_URL}) : {exc}"
    return _pg_state["reason"]


def require_postgres() -> None:
    reason = pg_unavailable_reason()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true : le serveur PostgreSQL est obligatoire. {reason}")
    pytest.skip(reason)


def pg_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def pg_create(name: str, template: str | None = None) -> None:
    engine = _pg_admin_engine()
    with engine.connect() as connection:
        clause = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    engine.dispose()


def pg_drop(name: str) -> None:
    engine = _pg_admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Qt settings (remembered columns, filters) go to a fresh folder for each test."""
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path_factory.mktemp("reglages")))
    yield


@pytest.fixture(autouse=True)
def no_write_on_the_gui_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test guards the rule of desktop.writing: the GUI's own code never writes to
    the base on the GUI thread (a locked base would freeze the window). The tests' own
    set-up writes are theirs, not the GUI's: only frames of desktop/ count."""
    import threading
    import traceback
    from contextlib import contextmanager

    original = Database.write
    desktop = str(Path(__file__).resolve().parent.parent / "desktop")
    offences: list[str] = []

    @contextmanager
    def guarded(self: Database, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if threading.current_thread() is threading.main_thread():
            frames = [f for f in traceback.extract_stack()[:-2]
                      if f.filename.startswith(desktop)]
            if frames:
                offences.append(f"{Path(frames[-1].filename).name}:{frames[-1].lineno} "
                                f"({frames[-1].name})")
        with original(self, *args, **kwargs) as session:
            yield session

    monkeypatch.setattr(Database, "write", guarded)
    yield
    assert not offences, ("Écritures sur le fil de l'interface (desktop.writing.run_write "
                          f"attendu) : {sorted(set(offences))}")


# --- Templates made once per session, copied per test -----------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "vide.sqlite"
    open_database(path).close()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    require_postgres()
    name = f"ct_tpl_{uuid.uuid4().hex[:10]}"
    pg_create(name)
    open_database(pg_url(name)).close()
    yield name
    pg_drop(name)


@pytest.fixture(scope="session")
def pg_demo_template(pg_template: str) -> Iterator[str]:
    from db.demo import build_demo

    name = f"ct_demo_{uuid.uuid4().hex[:10]}"
    pg_create(name, pg_template)
    database = open_database(pg_url(name))
    build_demo(database)
    database.close()
    yield name
    pg_drop(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh database (schema + reference data, no user data) on each backend."""
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "base.sqlite"
        shutil.copyfile(template, path)
        database = open_database(path)
        yield database
        database.close()
        return
    template = request.getfixturevalue("pg_template")
    name = f"ct_{uuid.uuid4().hex[:12]}"
    pg_create(name, template)
    database = open_database(pg_url(name))
    yield database
    database.close()
    pg_drop(name)


@pytest.fixture
def second_session(db: Database) -> Iterator[Database]:
    """Another agent on the same database (its own engine and connections)."""
    other = open_database(db.target.path if db.is_sqlite else
                          db.target.url.render_as_string(hide_password=False))
    yield other
    other.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    from db.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    shutil.copyfile(sqlite_template, path)
    database = open_database(path)
    build_demo(database)
    database.close()
    return path


@pytest.fixture
def demo_path(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.sqlite"
    shutil.copyfile(demo_template, path)
    return path


@pytest.fixture
def demo_db(demo_path: Path) -> Iterator[Database]:
    database = open_database(demo_path)
    yield database
    database.close()


@pytest.fixture
def window(qtbot, demo_db):
    """The main window on a copy of the demo base, shown, as the agent finds it."""
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    make_application()
    main = MainWindow(demo_db)
    qtbot.addWidget(main)
    main.show()
    return main
