"""The README and the pages under docs/: their links lead somewhere, their code runs.

Every relative link of README.md and docs/*.md must name a file of the repository, and
an anchor (`page.md#section`) a heading of that page, as GitHub renders its id.

Every ```python block runs, in the order of its page, all of a page's blocks in one
namespace and in a fresh working folder, except the blocks marked to be skipped: a block
that downloads weights or data, or needs a full-size model, has the HTML comment

    <!-- no-run: why -->

on the line just before its fence. The comment is invisible on GitHub and in the site,
and the reason is required, so that every skipped block says why. Blocks that run use
tiny models, to keep this test cheap on every backend.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_NO_RUN = re.compile(r"<!-- no-run: (.+?) -->")


def _name(path):
    return path.relative_to(ROOT).as_posix()


def _prose(text):
    """`text` without fenced blocks and inline code, where links and headings are not."""
    return _CODE.sub("", _FENCE.sub("", text))


def _anchors(path):
    """The ids GitHub gives the headings of `path`: lower case, punctuation dropped,
    spaces as hyphens, `-1`, `-2` ... after repeats."""
    anchors = set()
    for heading in _HEADING.findall(_FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchor, count = slug, 0
        while anchor in anchors:
            count += 1
            anchor = f"{slug}-{count}"
        anchors.add(anchor)
    return anchors


def _blocks(path):
    """`(line, language, code, reason to skip or None)` for each fenced block of `path`."""
    text = path.read_text(encoding="utf-8")
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = _NO_RUN.fullmatch(before.strip())
        line = text.count("\n", 0, match.start()) + 1
        yield line, match.group(1), match.group(2), skip.group(1) if skip else None


@pytest.mark.backend_independent(reason="reads the pages' text")
def test_the_pages_are_found():
    assert {_name(page) for page in PAGES} >= {
        "README.md", "docs/index.md", "docs/weights.md", "docs/training.md", "docs/experiments.md",
        "docs/export.md", "docs/inspection.md", "docs/performance.md", "docs/api.md",
    }


@pytest.mark.backend_independent(reason="reads the pages' text")
@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_relative_link_resolves(page):
    broken = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # a URL
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no heading with that anchor in {_name(resolved)}")
    assert not broken, f"{_name(page)}: " + "; ".join(broken)


@pytest.mark.backend_independent(reason="reads the pages' text")
@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_no_run_marker_marks_a_python_block_and_says_why(page):
    text = page.read_text(encoding="utf-8")
    marked = [block for block in _blocks(page) if block[3] is not None]
    assert len(marked) == len(re.findall(r"<!-- no-run", _prose(text))), "a no-run comment not just before a block"
    for line, language, _, reason in marked:
        assert language == "python", f"{_name(page)}:{line}: no-run before a {language or 'plain'} block"
        assert reason.strip(), f"{_name(page)}:{line}: no-run without a reason"


RUNNABLE = [page for page in PAGES if any(b[1] == "python" and b[3] is None for b in _blocks(page))]


@pytest.mark.backend_independent(reason="reads the pages' text")
def test_the_readme_quickstart_is_run():
    assert ROOT / "README.md" in RUNNABLE


@pytest.mark.parametrize("page", RUNNABLE, ids=_name)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for line, language, code, skip in _blocks(page):
        if language == "python" and skip is None:
            exec(compile(code, f"{_name(page)}:{line}", "exec"), namespace)


@pytest.mark.backend_independent(reason="reads the pages' text")
def test_every_page_is_in_the_site():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s+- [^:\n]+: (\S+\.md)\s*$", config, re.M))
    assert listed == {page.name for page in PAGES if page.parent.name == "docs"}
