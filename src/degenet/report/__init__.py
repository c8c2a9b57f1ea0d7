"""Presentation: text and JSON forms, plots, and the self-contained report."""

from degenet._lazy import exports

__getattr__, __dir__, __all__ = exports(__name__, {
    "check_report_path": "document", "report_content": "document",
    "write_report": "document"})
