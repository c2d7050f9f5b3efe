"""Progress of long work on stderr: what runs, how far it got, how long it took.

Three forms, silent until progress is shown:

- `stage(name)`: a block of work of unknown length, such as a conversion:
  `exporting to .pt2 ...` when it starts, `exporting to .pt2 ... done in 63 s`
  when it ends.
- `counter(what, total, unit)`: an amount that grows, such as the bytes of a
  download or the images through a model:
  `downloading ViT-B_16.npz: 120.5 of 330.2 MB, 12 s, about 21 s left`.
- `Steps(total)`: long items one after another, such as training runs, each
  announced as `[3/20] NAME (1 min 5 s so far, about 6 min left)`.

Library calls print nothing: the `keras-vit` command shows progress while it
runs (`shown()`), and a script or notebook can do the same. Progress is not
logged through the `keras_vit` logger, whose INFO lines are notes a user acts
on (a new head, a resampled position table): turning those on should not bring
a line per batch. And the command holds back what converters write to file
descriptor 2 during an export (`keras_vit.cli.framework_output`), where the
logger's handler writes; `shown()` writes to a duplicate of it taken first.

On a terminal a counter redraws its line in place; elsewhere (a pipe, a CI
log) every line is a plain line, without carriage returns or escape codes,
and a counter writes one every `PLAIN_EVERY_S` seconds, the first after as
long. On a terminal a counter stays silent for its first `QUIET_S` seconds.
So work that takes a few seconds prints no count.
"""

import contextlib
import os
import sys
import time

__all__ = ["Counter", "Steps", "counter", "duration", "is_shown", "shown", "stage", "write"]

# A counter's plain line comes every PLAIN_EVERY_S, the first after as long; on a
# terminal, the line is drawn after QUIET_S and redrawn every TERMINAL_EVERY_S.
QUIET_S = 2.0
PLAIN_EVERY_S = 10.0
TERMINAL_EVERY_S = 0.2

_console = None


class _Console:
    """Where progress goes, and the terminal line a stage or counter has left open."""

    def __init__(self, stream):
        self.stream = stream
        self.terminal = _is_terminal(stream)
        self.depth = 0
        self.owner = None  # what owns the open line (terminal only), or None
        self.width = 0

    def line(self, text, owner=None):
        """Writes `text` as a line of its own, or completes `owner`'s open line with it."""
        if owner is not None and self.owner is owner:
            self._write(text + "\n")
        else:
            self._close_line()
            self._write("  " * self.depth + text + "\n")
        self.owner, self.width = None, 0

    def open(self, text, owner):
        """A terminal line `owner` may complete or redraw; a plain line elsewhere."""
        if not self.terminal:
            self.line(text)
            return
        if self.owner is owner:
            padding = " " * max(0, self.width - len(text))
            self._write("\r" + "  " * self.depth + text + padding)
        else:
            self._close_line()
            self._write("  " * self.depth + text)
        self.owner, self.width = owner, len(text)

    def finish(self, text, owner):
        """Ends `owner`'s count with `text`: redrawn over its open line on a terminal."""
        if self.terminal and self.owner is owner:
            padding = " " * max(0, self.width - len(text))
            self._write("\r" + "  " * self.depth + text + padding + "\n")
            self.owner, self.width = None, 0
        else:
            self.line(text)

    def _close_line(self):
        if self.owner is not None:
            self._write("\n")
            self.owner, self.width = None, 0

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@contextlib.contextmanager
def shown(stream=None):
    """Shows progress for the duration of the block, then restores what was shown before.

    Args:
        stream: a text stream, or None for the process' standard error: a
            duplicate of file descriptor 2, so that progress still shows
            while a framework's own output to it is held back. Defaults to None.

    Example:

    >>> import io
    >>> out = io.StringIO()
    >>> with shown(out):
    ...     write("step one")
    >>> out.getvalue()
    'step one\\n'
    """
    global _console
    previous = _console
    owned = _standard_error() if stream is None else None
    _console = _Console(stream if owned is None else owned)
    try:
        yield
    finally:
        _console._close_line()
        _console = previous
        if owned is not None and owned is not sys.stderr:
            owned.close()


def _standard_error():
    """A stream on a duplicate of descriptor 2 where `sys.stderr` writes to it, else `sys.stderr`
    (replaced, as by a test's capture)."""
    try:
        if sys.stderr.fileno() != 2:
            return sys.stderr
    except (AttributeError, ValueError, OSError):
        return sys.stderr
    sys.stderr.flush()
    return os.fdopen(os.dup(2), "w", encoding=sys.stderr.encoding or "utf-8", errors="replace")


def is_shown():
    """Whether progress is shown now."""
    return _console is not None


def write(text):
    """Writes `text` as a line of progress, if progress is shown."""
    if _console is not None:
        _console.line(text)


@contextlib.contextmanager
def stage(name):
    """A block of work announced when it starts and timed when it ends.

    Prints `NAME ...`, then `NAME ... done in 63 s` (on a terminal, on the
    same line when nothing came between), or `NAME ... failed after 3 s`
    when the block raises. A stage inside another is indented under it.

    Args:
        name: str. What the block does, e.g. `"exporting to .pt2"`.
    """
    console = _console
    if console is None:
        yield
        return
    start = time.perf_counter()
    token = object()
    console.open(f"{name} ...", token)
    console.depth += 1
    outcome = "failed after"
    try:
        yield
        outcome = "done in"
    finally:
        console.depth -= 1
        elapsed = duration(time.perf_counter() - start)
        if console.owner is token:
            console.line(f" {outcome} {elapsed}", token)
        else:
            console.line(f"{name} ... {outcome} {elapsed}")


class Counter:
    """An amount of work done so far of a total, shown with its time and an estimate of the time left.

    Use `counter(...)`, a context manager; `add` counts.

    Args:
        what: str. What is counted, e.g. `"downloading ViT-B_16.npz"`.
        total: number or None. The amount at the end, where known.
        unit: str. `"bytes"` (shown in kB, MB or GB) or a noun such as
            `"images"`. Defaults to `""`.
    """

    def __init__(self, what, total=None, unit=""):
        self.what, self.total, self.unit = what, total, unit
        self.done = 0
        self._start = self._last = time.perf_counter()
        self._printed = False

    def add(self, amount):
        """Counts `amount` more, and shows the count when it is time to."""
        self.done += amount
        console = _console
        if console is None:
            return
        now = time.perf_counter()
        if console.terminal:
            due = now - self._start >= QUIET_S and now - self._last >= TERMINAL_EVERY_S
        else:
            due = now - self._last >= PLAIN_EVERY_S
        if due:
            self._last, self._printed = now, True
            console.open(self.text(now - self._start), self)

    def text(self, elapsed):
        """`what: 120.5 of 330.2 MB, 12 s, about 21 s left` after `elapsed` seconds."""
        if self.total:
            left = ""
            if 0 < self.done < self.total:
                left = f", about {duration(elapsed * (self.total - self.done) / self.done)} left"
            return f"{self.what}: {self._amount(self.done, self.total)}, {duration(elapsed)}{left}"
        return f"{self.what}: {self._amount(self.done)}, {duration(elapsed)}"

    def close(self):
        """Ends the count: a last line, `what: 330.2 MB in 33 s`, if any line was shown."""
        if _console is not None and self._printed:
            elapsed = duration(time.perf_counter() - self._start)
            _console.finish(f"{self.what}: {self._amount(self.done)} in {elapsed}", self)
        self._printed = False

    def _amount(self, done, total=None):
        if self.unit == "bytes":
            scale, name = _byte_unit(total or done)
            digits = 1 if scale > 1 else 0
            of = f" of {total / scale:.{digits}f}" if total else ""
            return f"{done / scale:.{digits}f}{of} {name}"
        of = f" of {total:,}" if total else ""
        return f"{done:,}{of}{' ' + self.unit if self.unit else ''}"


def _byte_unit(size):
    for scale, name in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if size >= scale:
            return scale, name
    return 1, "bytes"


@contextlib.contextmanager
def counter(what, total=None, unit=""):
    """A `Counter` for the duration of the block, closed at its end.

    Example:

    >>> with counter("features", total=300, unit="images") as count:
    ...     for batch in range(3):
    ...         count.add(100)
    >>> count.done
    300
    """
    count = Counter(what, total, unit)
    try:
        yield count
    finally:
        count.close()


class Steps:
    """Long items one after another, each announced with its number, the time
    so far and an estimate of the time left (from the mean of the items done).

    Args:
        total: int. How many items there are.
        log: callable taking a line, or None for `write` (shown progress
            only). Defaults to None.

    Example:

    >>> steps = Steps(2, log=print)
    >>> steps.next("first")
    [1/2] first
    """

    def __init__(self, total, log=None):
        self.total = total
        self.log = write if log is None else log
        self.done = 0
        self._start = None

    def next(self, description):
        """Announces the next item, `[3/20] DESCRIPTION (1 min 5 s so far, about 6 min left)`."""
        now = time.perf_counter()
        if self._start is None:
            self._start = now
        elapsed = now - self._start
        timing = ""
        if self.done:
            left = elapsed / self.done * (self.total - self.done)
            timing = f" ({duration(elapsed)} so far, about {duration(left)} left)"
        self.done += 1
        self.log(f"[{self.done}/{self.total}] {description}{timing}")


def duration(seconds):
    """`seconds` as people say it: `0.4 s`, `63 s`, `4 min 5 s`, `2 h 10 min`.

    Example:

    >>> duration(0.42), duration(63.4), duration(245), duration(7800)
    ('0.4 s', '63 s', '4 min 5 s', '2 h 10 min')
    """
    if seconds < 1:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 100:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
