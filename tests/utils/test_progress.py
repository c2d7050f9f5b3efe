"""Progress lines: silent unless shown, plain lines off a terminal, one redrawn line on one."""

import io
import re

import pytest

from keras_vit.utils import progress

pytestmark = pytest.mark.backend_independent(reason="text written to a stream; no framework")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def every_update(monkeypatch):
    """A counter shows every update, at once (its quiet start and spacing are for people)."""
    monkeypatch.setattr(progress, "QUIET_S", 0.0)
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)
    monkeypatch.setattr(progress, "TERMINAL_EVERY_S", 0.0)


def _work():
    with progress.stage("exporting to .pt2"):
        with progress.counter("downloading ViT.npz", total=2_000_000, unit="bytes") as count:
            count.add(500_000)
            count.add(1_500_000)
    progress.write("done")


def test_nothing_is_written_unless_progress_is_shown(capsys, every_update):
    _work()
    steps = progress.Steps(2)
    steps.next("first")
    assert capsys.readouterr() == ("", "") and not progress.is_shown()


def test_off_a_terminal_every_line_is_plain(every_update):
    out = io.StringIO()
    with progress.shown(out):
        _work()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert lines[0] == "exporting to .pt2 ..."
    # Inside a stage, indented under it; the count names the bytes so far of the total.
    assert re.fullmatch(r"  downloading ViT\.npz: 0\.5 of 2\.0 MB, \d\.\d s, about \d\.\d s left", lines[1]), lines
    assert re.fullmatch(r"  downloading ViT\.npz: 2\.0 of 2\.0 MB, \d\.\d s", lines[2]), lines
    assert re.fullmatch(r"  downloading ViT\.npz: 2\.0 MB in \d\.\d s", lines[3]), lines
    assert re.fullmatch(r"exporting to \.pt2 \.\.\. done in \d\.\d s", lines[4]), lines
    assert lines[5:] == ["done"]


def test_on_a_terminal_a_stage_ends_on_its_line_and_a_count_redraws_one(every_update):
    out = _Terminal()
    with progress.shown(out):
        with progress.stage("checking"):
            pass
        with progress.counter("features", total=300, unit="images") as count:
            for _ in range(3):
                count.add(100)
    lines = out.getvalue().split("\n")
    assert re.fullmatch(r"checking \.\.\. done in \d\.\d s", lines[0]), lines
    redrawn = lines[1].split("\r")
    assert redrawn[0].startswith("features: 100 of 300 images, ") and "about" in redrawn[0]
    assert re.fullmatch(r"features: 300 images in \d\.\d s *", redrawn[-1]), redrawn
    assert lines[2:] == [""]


def test_a_failed_stage_says_so_and_the_error_goes_on(every_update):
    out = io.StringIO()
    with progress.shown(out), pytest.raises(ZeroDivisionError):
        with progress.stage("converting"):
            1 / 0
    assert re.fullmatch(r"converting \.\.\.\nconverting \.\.\. failed after \d\.\d s\n", out.getvalue())


@pytest.mark.parametrize("stream", [io.StringIO, _Terminal])
def test_a_counter_is_quiet_at_first(monkeypatch, stream):
    monkeypatch.setattr(progress, "QUIET_S", 60.0)
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 60.0)
    monkeypatch.setattr(progress, "TERMINAL_EVERY_S", 0.0)
    out = stream()
    with progress.shown(out), progress.counter("features", total=10, unit="images") as count:
        count.add(5)
        count.add(5)
    assert out.getvalue() == ""


def test_steps_give_the_time_so_far_and_an_estimate_of_the_time_left():
    lines = []
    steps = progress.Steps(3, log=lines.append)
    for name in ("a", "b", "c"):
        steps.next(name)
    assert lines[0] == "[1/3] a"
    assert re.fullmatch(r"\[2/3\] b \(\d\.\d s so far, about \d\.\d s left\)", lines[1]), lines


def test_showing_restores_what_was_shown_before():
    outer, inner = io.StringIO(), io.StringIO()
    with progress.shown(outer):
        with progress.shown(inner):
            progress.write("inner")
        progress.write("outer")
    assert (outer.getvalue(), inner.getvalue()) == ("outer\n", "inner\n") and not progress.is_shown()


@pytest.mark.parametrize("seconds, text", [(0.04, "0.0 s"), (5.5, "6 s"), (99.4, "99 s"), (100, "1 min 40 s"),
                                           (3599, "59 min 59 s"), (3600, "1 h 0 min")])
def test_durations_read_as_people_say_them(seconds, text):
    assert progress.duration(seconds) == text
