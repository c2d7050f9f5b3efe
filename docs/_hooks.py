"""mkdocs hook: every relative link of a page must name a file that exists.

mkdocs checks links between its own pages, but the pages also link to files of the
repository outside docs/ (the README, examples/, benchmarks/), which it can only report
as "not found". This hook checks those paths on disk and warns, which fails
`mkdocs build --strict`, when one is missing. tests/test_docs.py checks the same links,
and the README's, with their anchors.
"""

import logging
import pathlib
import re

LOG = logging.getLogger("mkdocs.hooks.links")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def on_page_markdown(markdown, page, config, files):
    text = _CODE.sub("", _FENCE.sub("", markdown))
    folder = pathlib.Path(page.file.abs_src_path).parent
    for target in _LINK.findall(text):
        path = target.split("#", 1)[0]
        if not path or re.match(r"[a-z][a-z0-9+.-]*:", path):
            continue
        if not (folder / path).exists():
            LOG.warning("%s links to %r, which does not exist", page.file.src_uri, target)
    return markdown
