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
    nothing) is removed, so a failed run leaves no trace. A folder that
    existed before is never touched, nor one that holds a file.

    Args:
        path: str. The output folder.
    """
    existed = os.path.lexists(path)
    try:
        yield
    except BaseException:
        if not existed and os.path.isdir(path) and not _holds_files(path):
            shutil.rmtree(path, ignore_errors=True)
        raise


def _holds_files(path):
    return any(files for _, _, files in os.walk(path))
