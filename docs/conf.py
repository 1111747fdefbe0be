"""Sphinx configuration of the sklearn-ser documentation.

Build with ``tox -e docs`` or, from the repository root::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The build is offline: no intersphinx inventory is fetched, so references to scikit-learn,
numpy or torch objects render as plain code rather than links.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from datetime import date
from pathlib import Path

# Import the package from the working tree (tox installs it too; this makes a plain
# ``sphinx-build`` from a checkout work as well).
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Headless figures for the example gallery.
os.environ.setdefault("MPLBACKEND", "Agg")
import matplotlib

matplotlib.use("Agg")

import sklearn_ser

# The examples train tiny networks; on a shared or small machine, torch's default
# intra-op thread pool competes with everything else and makes them an order of magnitude
# slower. One thread per process keeps the gallery build fast and its timings stable.
# (This only affects the docs build: the examples themselves need no such line.)
try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is a hard dependency
    pass

# -- Project information ---------------------------------------------------------------
project = "sklearn-ser"
author = "The sklearn-ser developers"
copyright = f"2025-{date.today().year}, {author}"
version = sklearn_ser.__version__
release = sklearn_ser.__version__

# -- General configuration -------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc / autosummary -------------------------------------------------------------
autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections already give the types
autoclass_content = "class"
autodoc_member_order = "bysource"

# -- intersphinx ------------------------------------------------------------------------
# Deliberately empty: the build must pass offline (``-W``), and a remote inventory that
# cannot be fetched is a warning. Add e.g. ``"sklearn": ("https://scikit-learn.org/stable",
# None)`` for an online build.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# -- numpydoc ---------------------------------------------------------------------------
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# No numpydoc_validation_checks: the docstrings are written in numpydoc style, but the
# inherited scikit-learn and torch members are not ours to validate.

# -- sphinx-gallery ---------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "plot_gallery": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 5,
    "reset_modules": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# Examples train on purpose-built tiny data sets; silence the library-independent noise
# that would otherwise be printed into the rendered pages.
warnings.filterwarnings("ignore", category=UserWarning, message=".*Matplotlib is currently.*")
warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn")

# -- HTML output ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-ser {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 8,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_context = {"default_mode": "light"}
html_sidebars = {"index": [], "install": [], "cli": [], "benchmarks": []}


# -- Hooks ------------------------------------------------------------------------------
_TYPE_LINE = re.compile(r"^\s*\*\*[^*]+\*\* : ")  # numpydoc's rendering of "name : type"
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=[\s),\]]|$)")


def _escape_fitted_attributes_in_types(app, what, name, obj, options, lines):
    """Escape ``name_)`` in numpydoc type lines, e.g. ``(n_samples, embedding_dim_)``.

    reStructuredText reads a word ending in ``_`` as a hyperlink reference, so a type such
    as ``ndarray of shape (n_samples, n_segments_)`` would be an "Unknown target name"
    error. Runs after numpydoc has rendered the sections.
    """
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match:
            head, rest = line[: match.end()], line[match.end() :]
            lines[i] = head + _TRAILING_UNDERSCORE.sub(r"\\_", rest)


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn generates set_{fit,predict,...}_request methods for metadata routing;
    # their docstrings point into scikit-learn's own glossary.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    # numpydoc's docstring processing runs at the default priority (500): run after it.
    app.connect("autodoc-process-docstring", _escape_fitted_attributes_in_types, priority=900)
    app.connect("autodoc-skip-member", _skip_member)
