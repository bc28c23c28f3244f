"""Planning the output files of ``upscale`` so that nothing is destroyed: checked before any work.

Refused: an output that is an input (or a folder output inside the input folder, where the outputs
would be read back as inputs), two inputs that would write the same output (``a.png`` and ``a.jpg``
both give ``a.png``), an output that already exists (unless ``force``), and an output folder that
cannot be created. Each output is written to a temporary file and renamed, so an interrupted run
never leaves a truncated image.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
import os
from pathlib import Path
import tempfile

from optuna_srprune.data import IMAGE_SUFFIXES
from optuna_srprune.data import list_images
from optuna_srprune.exceptions import DataError

PathLike = str | os.PathLike[str]


def _same(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def check_suffix(path: Path) -> None:
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise DataError(
            f"Output {str(path)!r} needs an image suffix ({', '.join(sorted(IMAGE_SUFFIXES))}) "
            "or must be a folder."
        )


def _check_writable_parent(path: Path) -> None:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise DataError(f"Cannot write {str(path)!r}: {str(parent)!r} is not a writable folder.")


def plan_outputs(source: PathLike, target: PathLike, force: bool = False) -> list[tuple[Path, Path]]:
    """``(input, output)`` pairs of an upscale run, or a :class:`DataError` if any output is unsafe.

    ``source`` a file: ``target`` is the output file, or an existing folder to write ``<name>.png``
    into. ``source`` a folder: ``target`` is a folder that receives ``<name>.png`` per image.
    """
    source, target = Path(source), Path(target)
    if not source.exists():
        raise DataError(f"{str(source)!r} does not exist; give an image file or a folder of images.")
    if source.is_dir():
        if target.exists() and not target.is_dir():
            raise DataError(
                f"{str(source)!r} is a folder, so the output {str(target)!r} must be a folder too."
            )
        resolved_source, resolved_target = source.resolve(), target.resolve()
        if resolved_target == resolved_source or resolved_target.is_relative_to(resolved_source):
            raise DataError(
                f"The output folder {str(target)!r} is the input folder or inside it: the inputs would be "
                "overwritten or read back as inputs. Choose a folder outside the input."
            )
        jobs = [(path, target / f"{path.stem}.png") for path in list_images(source)]
    else:
        jobs = [(source, target / f"{source.stem}.png" if target.is_dir() else target)]
    by_output: dict[Path, list[Path]] = defaultdict(list)
    for src, out in jobs:
        check_suffix(out)
        if _same(src, out):
            raise DataError(
                f"The output {str(out)!r} is the input {str(src)!r}: upscaling would overwrite it. "
                "Choose another output."
            )
        by_output[out.resolve()].append(src)
    clashes = {out: srcs for out, srcs in by_output.items() if len(srcs) > 1}
    if clashes:
        out, srcs = next(iter(clashes.items()))
        names = ", ".join(repr(s.name) for s in srcs)
        raise DataError(
            f"Inputs {names} would all be written to {out.name!r} ({len(clashes)} such clash(es)); "
            "rename them or upscale them into separate folders."
        )
    existing = [out for _, out in jobs if out.exists() or out.is_symlink()]
    for out in existing:
        if out.is_dir():
            raise DataError(f"The output {str(out)!r} is a folder; it cannot be written as an image.")
    if existing and not force:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise DataError(
            f"The output {str(existing[0])!r}{more} exists; pass --force to overwrite, "
            "or choose another output."
        )
    _check_writable_parent(jobs[0][1])
    return jobs


def write_atomically(target: Path, save: Callable[[Path], None]) -> None:
    """Call ``save`` on a temporary file beside ``target``, then rename it onto ``target``."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
        os.close(fd)
    except OSError as err:
        raise DataError(f"Cannot write {str(target)!r}: {err.strerror or type(err).__name__}.") from None
    tmp = Path(name)
    try:
        save(tmp)
        os.replace(tmp, target)
    except (OSError, ValueError) as err:
        tmp.unlink(missing_ok=True)
        raise DataError(f"Cannot write {str(target)!r}: {err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
