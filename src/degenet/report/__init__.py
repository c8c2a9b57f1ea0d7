"""Presentation: text and JSON forms, plots, and the self-contained report."""

from degenet.report.document import check_report_path, report_content, write_report

__all__ = ["check_report_path", "report_content", "write_report"]
