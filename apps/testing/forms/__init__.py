"""The test editor's form (editor), split by concern: the checks as rows (checks), a config and the
fields that show it (config), and reading typed values (values)."""

from apps.testing.forms.checks import OPTIONS, ROW_FIELDS, blank_row, check_kind
from apps.testing.forms.editor import TestEditorForm, run_label

__all__ = ["OPTIONS", "ROW_FIELDS", "TestEditorForm", "blank_row", "check_kind", "run_label"]
