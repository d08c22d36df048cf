"""Every file transship writes goes through here: never over something it must not lose,
always atomically.

Two rules, for every output path (``--out``, ``--reject-file``, reports, charts, exports):

1. **Refuse** a path that is the warehouse, its ``.wal``, any DuckDB database, or an input of
   the same command. Paths are compared after resolving symlinks, and by identity
   (``os.path.samefile``: same device and inode) so a hard link or ``./x/../w.duckdb`` is
   caught too. The error names the parameter (the CLI shows it as the flag).
2. **Write atomically**: into a temporary file in the same directory, ``fsync``, then
   ``os.replace`` over the target (and ``fsync`` the directory). A crash or an error mid-write
   leaves the old file as it was, and a reader never sees half a file.

Readers and warehouses register the files this process must not overwrite (`protect`), so a
command's inputs are refused even when the writer was not told about them; callers can also
pass ``inputs=`` explicitly. This module is a leaf: it imports only `transship.errors` (and
settings lazily), so every layer can use it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from transship.errors import ParameterError

PathLike = str | os.PathLike[str]

# DuckDB database files carry this magic at byte 8 (after an 8-byte checksum).
_DUCKDB_MAGIC = b"DUCK"
_KEPT = 4096  # registered paths kept (oldest forgotten first; a server registers uploads)

_lock = threading.Lock()
_protected: OrderedDict[str, str] = OrderedDict()  # resolved path -> what it is


class UnsafeOutputError(ParameterError):
    """An output path would overwrite the warehouse, its WAL, a database or an input."""

    def __init__(self, parameter: str, path: PathLike, why: str) -> None:
        self.path = str(path)
        self.why = why
        super().__init__(parameter, f"{self.path}: refusing to write there: {why}")


def _resolve(path: PathLike) -> Path:
    return Path(path).expanduser().resolve(strict=False)


def protect(path: PathLike, what: str = "an input file of this command") -> None:
    """Never let this process write over `path` (a file it reads, or its warehouse)."""
    key = str(_resolve(path))
    with _lock:
        _protected[key] = what
        _protected.move_to_end(key)
        while len(_protected) > _KEPT:
            _protected.popitem(last=False)


def protect_warehouse(path: PathLike) -> None:
    """Protect a warehouse file and its write-ahead log."""
    protect(path, "the warehouse file")
    protect(f"{path}.wal", "the warehouse's write-ahead log (.wal)")


def _settings_warehouse() -> Path | None:
    try:
        from transship.settings import get_settings

        return get_settings().warehouse
    except Exception:  # invalid settings are reported where they are used, not here
        return None


def _same(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)  # hard links, bind mounts, case-insensitive names
    except OSError:  # one of them does not exist
        return False


def is_duckdb(path: Path) -> bool:
    """True if `path` is a DuckDB database file (by its header)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[8:12] == _DUCKDB_MAGIC


def check_target(
    path: PathLike, *, parameter: str, inputs: Iterable[PathLike] = (), directory: bool = False
) -> Path:
    """Raise UnsafeOutputError if writing `path` could destroy data; return it as a Path.

    `parameter` names the argument the path came from (``out``, ``reject_file``); `inputs`
    are the files the calling operation reads. With `directory`, `path` is a directory to be
    (re)written: it must not hold a protected file either.
    """
    target = _resolve(path)
    named: list[tuple[Path, str]] = [(_resolve(p), "an input file of this command") for p in inputs]
    wh = _settings_warehouse()
    if wh is not None:
        named += [
            (_resolve(wh), "the warehouse file"),
            (_resolve(f"{wh}.wal"), "the warehouse's write-ahead log (.wal)"),
        ]
    with _lock:
        named += [(Path(p), what) for p, what in _protected.items()]
    for p, what in named:
        if _same(target, p):
            raise UnsafeOutputError(parameter, path, f"it is {what}")
        if directory and target in p.parents:
            raise UnsafeOutputError(parameter, path, f"the directory holds {what} ({p.name})")
    if directory:
        if target.exists() and not target.is_dir():
            raise UnsafeOutputError(parameter, path, "it is a file, not a directory")
        return Path(path)
    if target.is_dir():
        raise UnsafeOutputError(parameter, path, "it is a directory")
    if is_duckdb(target):
        raise UnsafeOutputError(parameter, path, "it is a DuckDB database")
    if target.name.endswith(".wal") and is_duckdb(target.with_name(target.name[:-4])):
        raise UnsafeOutputError(parameter, path, "it is a DuckDB write-ahead log (.wal)")
    return Path(path)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not supported (Windows): the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    with _lock:  # os.umask can only be read by setting it
        mask = os.umask(0)
        os.umask(mask)
    return mask


class AtomicFile:
    """A temporary file next to `path` that becomes `path` on `commit()`.

    `discard()` (or an exception inside ``with``) removes it and leaves `path` untouched.
    For writers that stream over a long operation (rejected rows during an ingest).
    """

    def __init__(
        self,
        path: PathLike,
        mode: Literal["w", "wb"] = "w",
        *,
        parameter: str,
        inputs: Iterable[PathLike] = (),
        encoding: str | None = "utf-8",
        newline: str | None = None,
    ) -> None:
        self.path = check_target(path, parameter=parameter, inputs=inputs)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        self.tmp = Path(tmp)
        self.parameter = parameter
        self._inputs = list(inputs)
        try:
            self.file: IO[Any] = (
                os.fdopen(fd, "wb")
                if mode == "wb"
                else os.fdopen(fd, "w", encoding=encoding, newline=newline)
            )
        except BaseException:
            os.close(fd)
            self.tmp.unlink(missing_ok=True)
            raise
        self._done = False

    def commit(self) -> Path:
        """Flush, fsync and rename over the target (checked again: it may have changed)."""
        if self._done:
            return self.path
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            _replace(self.tmp, self.path, self.parameter, self._inputs)
        except BaseException:
            self.discard()
            raise
        self._done = True
        return self.path

    def discard(self) -> None:
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self.file.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> IO[Any]:
        return self.file

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _replace(tmp: Path, path: Path, parameter: str, inputs: Iterable[PathLike]) -> None:
    check_target(path, parameter=parameter, inputs=inputs)
    try:
        mode = path.stat().st_mode & 0o7777  # keep an existing file's permissions
    except OSError:
        mode = 0o666 & ~_umask()  # mkstemp made it 0600; give a new file the usual mode
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def atomic_open(
    path: PathLike,
    mode: Literal["w", "wb"] = "w",
    *,
    parameter: str,
    inputs: Iterable[PathLike] = (),
    encoding: str | None = "utf-8",
    newline: str | None = None,
) -> AtomicFile:
    """``with atomic_open(out, parameter="out") as fh: ...`` -- checked, atomic."""
    return AtomicFile(
        path, mode, parameter=parameter, inputs=inputs, encoding=encoding, newline=newline
    )


def write_text(
    path: PathLike, text: str, *, parameter: str, inputs: Iterable[PathLike] = ()
) -> Path:
    with atomic_open(path, "w", parameter=parameter, inputs=inputs) as fh:
        fh.write(text)
    return Path(path)


def write_bytes(
    path: PathLike, data: bytes, *, parameter: str, inputs: Iterable[PathLike] = ()
) -> Path:
    with atomic_open(path, "wb", parameter=parameter, inputs=inputs) as fh:
        fh.write(data)
    return Path(path)


def write_with(
    path: PathLike,
    writer: Callable[[Path], object],
    *,
    parameter: str,
    inputs: Iterable[PathLike] = (),
) -> Path:
    """For libraries that write a file by name (Parquet, xlsx): `writer(tmp)` writes a
    temporary path next to `path`, which then replaces it atomically."""
    f = AtomicFile(path, "wb", parameter=parameter, inputs=inputs)
    f.file.close()  # the writer opens the temporary path itself
    try:
        writer(f.tmp)
        with f.tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        _replace(f.tmp, f.path, parameter, f._inputs)
    except BaseException:
        f.tmp.unlink(missing_ok=True)
        raise
    return f.path


def write_directory(
    path: PathLike,
    writer: Callable[[Path], object],
    *,
    parameter: str,
    replace: Callable[[Path], bool] | None = None,
    inputs: Iterable[PathLike] = (),
) -> Path:
    """`writer(tmpdir)` fills a temporary directory next to `path`, which then takes its
    place. An existing `path` is replaced only if `replace(path)` says so (it checks the old
    directory holds nothing that is not ours); the old one is removed after the swap."""
    target = check_target(path, parameter=parameter, inputs=inputs, directory=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        writer(tmp)
        check_target(path, parameter=parameter, inputs=inputs, directory=True)
        if target.exists():
            if replace is None or not replace(target):
                raise UnsafeOutputError(parameter, path, "the directory is not empty")
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)  # a directory cannot be renamed over a non-empty one
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


# -- spreadsheet-safe cells ------------------------------------------------------------------
# A text cell starting with one of these is run as a formula by Excel, LibreOffice and Google
# Sheets (OWASP "CSV injection"): `=HYPERLINK(...)` in a consignee name would exfiltrate data
# from the officer's machine. A leading apostrophe makes the spreadsheet show it as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` with a text cell that a spreadsheet would evaluate prefixed by ``'``.

    Only strings change: numbers (negative ones too), dates and None pass as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def safe_text_column(column: Any) -> Any:
    """A pyarrow string column with formula-like cells prefixed (other types unchanged)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column
    risky = pc.match_substring_regex(column, r"^[=+\-@\t\r]")
    if not pc.any(risky).as_py():
        return column
    fixed = pc.binary_join_element_wise(pa.scalar("'", column.type), column, "")
    return pc.if_else(risky, fixed, column)


def safe_table(table: Any) -> Any:
    """A pyarrow Table with every text column neutralised (see `safe_cell`)."""
    import pyarrow as pa

    columns = [safe_text_column(c) for c in table.columns]
    return pa.Table.from_arrays(columns, schema=table.schema) if columns else table


def protected() -> Iterator[tuple[str, str]]:
    """The registered paths and what they are (for diagnostics and tests)."""
    with _lock:
        return iter(list(_protected.items()))
