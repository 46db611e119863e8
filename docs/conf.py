"""Sphinx configuration of the kneedata documentation.

Built offline with warnings as errors by ``tests/test_docs.py`` (and ``make docs``):
no extension here fetches anything (no intersphinx), and the API page documents
``kneedata.__all__`` from the docstrings (numpydoc format).
"""

from __future__ import annotations

import re
from pathlib import Path

import kneedata

project = "kneedata"
author = "the kneedata contributors"
copyright = "2026, the kneedata contributors"  # noqa: A001 (Sphinx's name)
release = kneedata.__version__
version = release

extensions = [
    "myst_parser",          # the pages are Markdown (CommonMark + tables)
    "sphinx.ext.autodoc",   # the API reference from the docstrings
    "numpydoc",             # the docstrings' Parameters/Returns/Notes sections
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]

myst_heading_anchors = 3          # [text](page.md#a-heading) links
myst_enable_extensions = ["colon_fence"]

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"        # the numpydoc Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"kneedata {release}"
html_theme_options = {"page_width": "1180px", "body_max_width": "none"}
html_static_path: list[str] = []


def _list_every_page(app, docname: str, source: list[str]) -> None:
    """Add the pages that index.md's table of contents does not name to its end.

    A page someone adds to docs/ then joins the site (and the build, run with -W, does
    not fail on a page outside every table of contents) until it is listed by hand.
    """
    if docname != root_doc:
        return
    text = source[0]
    block = re.search(r"```\{toctree\}\n(.*?)```", text, re.S)
    if block is None:
        return
    listed = {line.strip() for line in block.group(1).splitlines()}
    pages = sorted(p.stem for p in Path(app.srcdir).glob("*.md") if p.stem != root_doc)
    missing = "".join(f"{page}\n" for page in pages if page not in listed)
    source[0] = text[:block.end(1)] + missing + text[block.end(1):]


def setup(app):
    app.connect("source-read", _list_every_page)
