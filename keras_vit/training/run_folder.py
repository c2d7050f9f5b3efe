"""A run's output folder: refusing to overwrite a finished run, and resuming a killed one.

`keras_vit.training.train` and `keras_vit.pretraining.pretrain` share it. A
folder holds the run's product (`model.keras`, `encoder.keras`), `backup/`
(`keras.callbacks.BackupAndRestore`, deleted when a run ends), `log.csv` and
`progress.json` (`ProgressFile`).
"""

import csv
import os
import sys

from keras_vit.training.callbacks import read_progress

RUN_FILES = {"backup": "backup", "log": "log.csv", "progress": "progress.json"}


def run_folder_of(model_path):
    """The run folder a `.keras` file belongs to: its own folder, or for one of the
    run's `checkpoints/`, the folder above (where `classes.txt` and `run.json` are)."""
    folder = os.path.dirname(os.path.abspath(model_path))
    return os.path.dirname(folder) if os.path.basename(folder) == "checkpoints" else folder


def prepare_out(out, product, overwrite, action="train", writes=True, **files):
    """Creates `out` and returns the paths of its files; refuses a finished run.

    Args:
        out: str. The output folder.
        product: str. The file a finished run leaves, e.g. `"model.keras"`.
        overwrite: bool. Start again over a finished run (its log and
            progress are removed).
        action: str. What the run does, for the error. Defaults to `"train"`.
        writes: bool. False in the processes of a multi-process job that
            only read the folder: they check it and change nothing.
            Defaults to True.
        **files: further `{key: file name}` in `out`.

    Returns:
        A dict from `"product"`, `"backup"`, `"log"`, `"progress"` and the keys
        of `files` to paths in `out`.
    """
    names = {"product": product, **RUN_FILES, **files}
    paths = {key: os.path.join(out, name) for key, name in names.items()}
    finished = os.path.exists(paths["product"]) and not os.path.isdir(paths["backup"])
    if finished and not overwrite:
        raise ValueError(
            f"{out} holds a finished run ({paths['product']}); pass overwrite=True "
            f"(--overwrite) to {action} again into it, or choose another output directory."
        )
    if not writes:
        return paths
    for stale in ("log", "progress"):
        if finished and os.path.exists(paths[stale]):
            os.remove(paths[stale])
    os.makedirs(out, exist_ok=True)
    return paths


def resume_epoch(paths, writes=True):
    """The epochs an interrupted run in this folder finished; 0 for a new run.

    Says so on stderr, and (if `writes`) trims the log to those epochs.
    """
    # BackupAndRestore deletes its folder when a run ends, so the folder's
    # presence, not the progress file's, says the last run was interrupted.
    if not os.path.isdir(paths["backup"]):
        return 0
    epoch = read_progress(paths["progress"])
    if epoch:
        print(f"keras_vit: resuming from the end of epoch {epoch} ({paths['backup']})", file=sys.stderr)
    if writes:
        trim_log(paths["log"], epoch)
    return epoch


def trim_log(path, epochs):
    """Keeps the log's rows of the first `epochs` epochs: the ones the backup holds.

    The log row of an epoch is written before its backup, so a run killed in
    between leaves one row that the resumed run writes again.
    """
    if not os.path.exists(path):
        return
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    kept = rows[:1] + [row for row in rows[1:] if row and int(row[0]) < epochs]
    if kept == rows:
        return
    partial = path + ".partial"
    with open(partial, "w", newline="") as file:
        csv.writer(file).writerows(kept)
    os.replace(partial, path)
