"""ui: the Streamlit app (``ui/app.py``), page previews (``ui.render``) and its launcher
(``ui.launch.run_ui``, behind ``yanbao ui``).

The app opens its library through a factory, ``qa.Library`` by default. Tests (and
embedders of the app) may swap it for something implementing the same contract::

    import ui
    ui.set_library_factory(lambda path, config: FakeLibrary(path))

This module stays import-light: importing ``ui`` must not import Streamlit or any model.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

LibraryFactory = Callable[[str, Any], Any]   # (library path, qa.config.Config | None) -> library

_factory: LibraryFactory | None = None


def set_library_factory(factory: LibraryFactory | None) -> None:
    """Make the app open libraries with ``factory(path, config)``; None restores ``qa.Library``."""
    global _factory
    _factory = factory


def open_qa_library(path: str, config: Any = None):
    """The default factory: the real ``qa.Library`` (imported only when a library is opened)."""
    import qa
    return qa.Library(path, config=config)


def library_factory() -> LibraryFactory:
    """The factory the app uses to open a library (``qa.Library`` unless one was set)."""
    return _factory if _factory is not None else open_qa_library


__all__ = ["set_library_factory", "library_factory", "LibraryFactory"]
