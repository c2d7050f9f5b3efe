"""Output folders that a failed command does not leave behind empty."""

import contextlib
import os
import shutil

__all__ = ["removed_if_unwritten"]


@contextlib.contextmanager
def removed_if_unwritten(path):
    """Removes the folder `path` if the block fails before writing a file into it.

    A command creates its output folder early (a training run's log and
    checkpoints go there); when it then fails on its data or its model, a
    folder it created and left without a single file (sub-folders count for
    nothing) is removed, with the parents it created (`runs/` of a new
    `runs/train`), so a failed run leaves no trace. A folder that existed
    before is never touched, nor one that holds a file. In a job of several
    processes only the one that writes the folder should ask.

    Args:
        path: str. The output folder.
    """
    created = _first_missing(os.path.abspath(path))
    try:
        yield
    except BaseException:
        if created is not None and os.path.isdir(created) and not _holds_files(created):
            shutil.rmtree(created, ignore_errors=True)
        raise


def _first_missing(path):
    """The topmost folder of `path` that does not exist yet (`runs/` of a new
    `runs/train`), or None when `path` exists."""
    missing = None
    while not os.path.lexists(path):
        missing, parent = path, os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return missing


def _holds_files(path):
    return any(files for _, _, files in os.walk(path))
