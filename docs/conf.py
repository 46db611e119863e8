"""Sphinx configuration of the kneedata documentation.

Built offline with warnings as errors by ``tests/test_docs.py`` (and ``make docs``):
no extension here fetches anything (no intersphinx), and the API page documents
``kneedata.__all__`` from the docstrings (numpydoc format).
"""

from __future__ import annotations

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
html_static_path: list[str] = []
