"""Typed errors of the institutions app: faces map ``code`` to a message or an HTTP status."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from lapor.core.tree import TreeError, TreeErrorCode


class InstitutionErrorCode(StrEnum):
    UNKNOWN_INSTITUTION = "unknown_institution"
    UNKNOWN_PARENT = "unknown_parent"
    MOVE_INTO_OWN_SUBTREE = "move_into_own_subtree"
    TREE_TOO_DEEP = "tree_too_deep"
    TOO_MANY_CHILDREN = "too_many_children"
    INVALID_PATH = "invalid_path"
    PARENT_INACTIVE = "parent_inactive"
    INVALID_NAME = "invalid_name"
    INVALID_CODE = "invalid_code"
    DUPLICATE_CODE = "duplicate_code"
    INVALID_CHOICE = "invalid_choice"
    INVALID_REGION_CODE = "invalid_region_code"
    UNKNOWN_REGION = "unknown_region"
    UNKNOWN_CATEGORY = "unknown_category"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_CATEGORY_FILE = "invalid_category_file"
    UNKNOWN_TEMPLATE = "unknown_template"
    DUPLICATE_TEMPLATE_NAME = "duplicate_template_name"
    INVALID_TEMPLATE_TEXT = "invalid_template_text"


class InstitutionError(Exception):
    """Bad input to an institutions service or selector. ``details`` holds what a face may show
    (e.g. the unknown region codes)."""

    def __init__(self, code: InstitutionErrorCode, message: str, /, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


_TREE_CODES = {
    TreeErrorCode.UNKNOWN_NODE: InstitutionErrorCode.UNKNOWN_INSTITUTION,
    TreeErrorCode.UNKNOWN_PARENT: InstitutionErrorCode.UNKNOWN_PARENT,
    TreeErrorCode.MOVE_INTO_OWN_SUBTREE: InstitutionErrorCode.MOVE_INTO_OWN_SUBTREE,
    TreeErrorCode.TOO_DEEP: InstitutionErrorCode.TREE_TOO_DEEP,
    TreeErrorCode.TOO_MANY_CHILDREN: InstitutionErrorCode.TOO_MANY_CHILDREN,
    TreeErrorCode.INVALID_PATH: InstitutionErrorCode.INVALID_PATH,
}


def from_tree_error(error: TreeError) -> InstitutionError:
    return InstitutionError(_TREE_CODES[error.code], error.message)
