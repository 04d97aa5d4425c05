"""Where the landing files live: a local folder, or object storage through fsspec (SPEC §2).

The landing root (``landing_dir`` in the config) is a local path or an fsspec URL (``s3://bucket/
prefix``; ``file://`` and ``memory://`` work too). For a URL, :func:`landing_root` returns a
``upath.UPath``: the pathlib API the discovery in :mod:`.landing` already uses (``iterdir``,
``is_dir``, ``stat().st_mtime``, ``relative_to``), backed by the fsspec filesystem. What pathlib
cannot do across two file systems lives here, with the local behaviour unchanged:

- :func:`fresh` — drop fsspec's cached listing of a folder before it is scanned, so that a
  long-lived worker (or a sensor poking every minute) sees files that arrived since its last look.
  The listing then serves the ``stat`` of the files in it (no request per file).
- :func:`local_copies` — DuckDB reads local files: a batch's files on object storage are downloaded
  once (concurrently) into ``<data>/tmp/landing/`` for the duration of the batch; the sha256 is
  computed on that copy, so the hash in the ledger is the hash of exactly the bytes that were read.
  Local files are read where they are (no copy).
- :func:`move` — quarantine and replay: rename on one local file system; otherwise copy, verify
  the sha256 of the copy, then delete the source. Nothing is lost and the bytes stay identical.
- :func:`landing_io` — a landing that cannot be reached (endpoint down, DNS, timeout, credentials
  refused by the endpoint) is a :class:`~growthops.errors.TransientError`: retried with backoff,
  never a data failure.

Options of the file system (``endpoint_url``, ``anon``, ``client_kwargs``, …) come from
``landing_storage_options`` (JSON, env ``GROWTHOPS_LANDING_STORAGE_OPTIONS``); credentials come
from the environment the way the file system reads them (for S3: ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, a profile, an instance role; ``AWS_ENDPOINT_URL`` for an S3-compatible
endpoint), never from the config file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from growthops.errors import TransientError

if TYPE_CHECKING:
    from upath import UPath

    from growthops.config import Settings
    from growthops.ingest.landing import LandingFile

T = TypeVar("T")
CHUNK = 1 << 20


def is_url(location: str) -> bool:
    return "://" in location


def landing_root(url: str, storage_options: dict[str, Any]) -> UPath:
    """The landing root ``url`` as a path on its fsspec file system (needs the ``s3`` extra for S3)."""
    try:
        from upath import UPath
    except ImportError as exc:  # pragma: no cover - upath comes with Airflow
        raise RuntimeError(f"landing_dir {url!r} is a URL: install the s3 extra (fsspec)") from exc
    return UPath(url, **storage_options)


def is_local(path: Any) -> bool:
    """A plain local path (``pathlib.Path``), as opposed to a path on an fsspec file system."""
    return isinstance(path, Path)


def fresh(path: Any) -> Any:
    """``path`` with the file system's cached listing of it (and of its parents) dropped."""
    if not is_local(path):
        path.fs.invalidate_cache(path.path)
    return path


def sha256_of(path: Any) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------------
# errors


@functools.cache
def io_errors() -> tuple[type[BaseException], ...]:
    """What a landing that cannot be reached raises: OS errors, and the S3 client's own errors."""
    errors: list[type[BaseException]] = [OSError]
    with contextlib.suppress(ImportError):  # the s3 extra is optional
        from botocore.exceptions import BotoCoreError, ClientError

        errors += [BotoCoreError, ClientError]
    with contextlib.suppress(ImportError):
        from aiohttp import ClientError as HttpError

        errors.append(HttpError)
    return tuple(errors)


def landing_io(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate a function that lists or reads landing: I/O trouble becomes a TransientError."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except TransientError:
            raise
        except io_errors() as exc:
            raise TransientError(f"landing unreachable ({type(exc).__name__}): {exc}") from exc

    return wrapper


# --------------------------------------------------------------------------------------------------
# reading


@contextlib.contextmanager
def local_copies(settings: Settings, files: list[LandingFile]) -> Iterator[list[LandingFile]]:
    """``files`` readable by DuckDB: local ones as they are, the others downloaded for the batch.

    A downloaded file is ``LandingFile.staged``; the copies are deleted when the block ends.
    Raises :class:`TransientError` if the landing cannot be read.
    """
    remote = [i for i, f in enumerate(files) if not is_local(f.path)]
    if not remote:
        yield files
        return
    settings.landing_staging_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.landing_staging_dir, prefix="batch-") as tmp:
        staged = {i: Path(tmp) / f"{i}-{files[i].name}" for i in remote}
        try:
            _download([files[i].path for i in remote], [staged[i] for i in remote])
        except io_errors() as exc:
            raise TransientError(
                f"could not download landing files ({type(exc).__name__}): {exc}; nothing was judged"
            ) from exc
        yield [dataclasses.replace(f, staged=staged[i]) if i in staged else f for i, f in enumerate(files)]


def _download(sources: list[Any], targets: list[Path]) -> None:
    """Copy ``sources`` (paths on fsspec file systems) to local ``targets``, one request batch per file system."""
    by_fs: dict[int, tuple[Any, list[str], list[str]]] = {}
    for src, dst in zip(sources, targets, strict=True):
        _fs, rpaths, lpaths = by_fs.setdefault(id(src.fs), (src.fs, [], []))
        rpaths.append(src.path)
        lpaths.append(str(dst))
    for fs, rpaths, lpaths in by_fs.values():
        fs.get(rpaths, lpaths)  # concurrent on async file systems (s3fs)
    missing = [str(s) for s, t in zip(sources, targets, strict=True) if not t.is_file()]
    if missing:
        raise FileNotFoundError(f"not downloaded: {', '.join(missing)}")


# --------------------------------------------------------------------------------------------------
# moving (quarantine, replay)


def move(src: Any, dst: Any, sha256: str) -> None:
    """Move ``src`` to ``dst`` byte-identical; either may be local or on an fsspec file system.

    One local file system: a rename. Otherwise: copy (to ``<name>.moving`` then rename when the
    target is local; straight to the target on object storage, where an object appears whole or
    not at all), verify the copy's sha256, then delete the source. Raises ``OSError`` (the source
    stays where it was) if any step fails.
    """
    try:
        if is_local(src) and is_local(dst):
            _move_local(src, dst, sha256)
            if sha256_of(dst) != sha256:  # never happens with a rename; proves it for a copy
                raise OSError(f"moved file {dst} does not match sha256 {sha256}")
        else:
            _copy_verified(src, dst, sha256)
            src.unlink()
    except OSError:
        raise
    except io_errors() as exc:  # the S3 client's errors, as the OSError callers handle
        raise OSError(f"could not move {src} to {dst} ({type(exc).__name__}): {exc}") from exc


def _move_local(src: Path, dst: Path, sha256: str) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        src.replace(dst)
    except OSError:  # another device: copy + verify + delete
        tmp = dst.with_name(dst.name + ".moving")
        shutil.copy2(src, tmp)
        if sha256_of(tmp) != sha256:
            tmp.unlink(missing_ok=True)
            raise OSError(f"copy of {src} to {tmp} is not byte-identical") from None
        tmp.replace(dst)
        src.unlink()


def _copy_verified(src: Any, dst: Any, sha256: str) -> None:
    """Stream ``src`` into ``dst`` and check the sha256 of what was written before keeping it."""
    target = dst.with_name(dst.name + ".moving") if is_local(dst) else dst
    if is_local(dst):
        dst.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fin, target.open("wb") as fout:
        shutil.copyfileobj(fin, fout, CHUNK)
    if sha256_of(target) != sha256:
        target.unlink(missing_ok=True)
        raise OSError(f"copy of {src} to {target} is not byte-identical to sha256 {sha256}")
    if target is not dst:
        target.replace(dst)
