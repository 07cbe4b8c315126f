"""Fresh, migrated databases for tests: a SQLite file always, a PostgreSQL
schema when ALLIANCE_TEST_DATABASE_URL is set.

Running every migration for each of a thousand tests cost about a third of the
suite, so each process migrates once, with the real migrations, and copies the
result: a SQLite file is copied byte for byte; a PostgreSQL schema is recreated
from `pg_dump` of the migrated one (schema and rows, under the new name). Where
`pg_dump` is missing or fails, each schema is migrated as before. The migrations
themselves are tested on their own (tests/test_migrations.py)."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.store.db import normalize_url, upgrade

POSTGRES_ENV = "ALLIANCE_TEST_DATABASE_URL"

_lock = threading.Lock()
_sqlite_template: Path | None = None
_postgres_scripts: dict[str, str | None] = {}  # base URL -> the migrated schema's script, "SCHEMA_NAME" for its name


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _migrated_sqlite_file() -> Path:
    global _sqlite_template
    with _lock:
        if _sqlite_template is None:
            directory = Path(tempfile.mkdtemp(prefix="alliance-template-"))
            atexit.register(shutil.rmtree, directory, True)
            template = directory / "template.db"
            upgrade(f"sqlite:///{template}")  # the engine is disposed: the WAL is checkpointed into the file
            _sqlite_template = template
        return _sqlite_template


def fresh_sqlite(directory: Path) -> str:
    target = directory / "alliance-test.db"
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "wb") as out, open(_migrated_sqlite_file(), "rb") as source:
        shutil.copyfileobj(source, out)
    return f"sqlite:///{target}"


def _schema_url(base_url: str, schema: str) -> str:
    separator = "&" if "?" in base_url else "?"
    return f"{normalize_url(base_url)}{separator}options={quote(f'-csearch_path={schema}')}"


def _create_schema(base_url: str, schema: str) -> None:
    engine = create_engine(normalize_url(base_url))
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def _dump_script(base_url: str, schema: str) -> str | None:
    """The migrated schema as SQL (tables, indexes, constraints, sequences and the
    rows the migrations wrote), with the schema's name replaced by a placeholder."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None
    url = make_url(normalize_url(base_url))
    environment = dict(os.environ, PGPASSWORD=url.password or "")
    command = [pg_dump, "--schema", schema, "--no-owner", "--no-privileges", "--inserts",
               "--host", url.host or "127.0.0.1", "--port", str(url.port or 5432),
               "--username", url.username or "postgres", url.database or "postgres"]
    try:
        dumped = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line for line in dumped.stdout.splitlines()
             if not line.startswith("\\") and not line.startswith("--")]  # psql meta-commands and comments
    return re.sub(rf"\b{re.escape(schema)}\b", "SCHEMA_NAME", "\n".join(lines))


def _postgres_script(base_url: str) -> str | None:
    with _lock:
        if base_url not in _postgres_scripts:
            schema = f"t_template_{uuid.uuid4().hex[:8]}"
            _create_schema(base_url, schema)
            try:
                upgrade(_schema_url(base_url, schema))
                _postgres_scripts[base_url] = _dump_script(base_url, schema)
            finally:
                drop_postgres_schema(base_url, schema)
        return _postgres_scripts[base_url]


def fresh_postgres(base_url: str) -> tuple[str, str]:
    """A new schema in the test database, migrated; returns (url, schema)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = _schema_url(base_url, schema)
    script = _postgres_script(base_url)
    if script is None:
        _create_schema(base_url, schema)
        upgrade(url)
        return url, schema
    engine = create_engine(normalize_url(base_url))
    raw = engine.raw_connection()  # the driver's own: several statements, no parameters
    try:
        raw.driver_connection.execute(script.replace("SCHEMA_NAME", f'"{schema}"'))  # type: ignore[union-attr]
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return url, schema


def drop_postgres_schema(base_url: str, schema: str) -> None:
    engine = create_engine(normalize_url(base_url))
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()
