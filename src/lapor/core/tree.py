"""Materialised-path trees (institutions, categories): see docs/adr/0002-institution-tree.md.

A node's ``path`` is its parent's path followed by one fixed-width step of ``STEP_LENGTH`` characters
from ``ALPHABET`` (0-9, A-Z), so ``"0003001A"`` is the 26th child of the third root. From a path alone
we know every ancestor's path and the depth; a whole subtree is one range of the unique index on
``path``; and appending a child never touches another row.

Only digits and upper-case letters appear in paths on purpose: they sort in the same order under
SQLite's BINARY collation, PostgreSQL's "C" and the common linguistic collations (glibc or ICU
en_US/id_ID), so the range bounds computed here are correct whatever collation the database was
created with. Punctuation such as "~" is *not* safe as a bound: ICU and glibc ignore it at the first
comparison level, so ``'0001~' < '00010001'`` under en_US (checked in tests/institutions).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any, TypeVar

from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Case, F, Max, Q, Value, When
from django.db.models.functions import Concat, Length, Substr
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STEP_LENGTH = 4
PATH_MAX_LENGTH = 255
MAX_DEPTH = PATH_MAX_LENGTH // STEP_LENGTH
#: Children per parent: 36**4 - 1 = 1,679,615 (step "0000" is never handed out).
MAX_STEP_NUMBER = len(ALPHABET) ** STEP_LENGTH - 1
CREATE_ATTEMPTS = 5

_ALPHABET_INDEX = {character: index for index, character in enumerate(ALPHABET)}


class TreeErrorCode(StrEnum):
    UNKNOWN_NODE = "unknown_node"
    UNKNOWN_PARENT = "unknown_parent"
    MOVE_INTO_OWN_SUBTREE = "move_into_own_subtree"
    TOO_DEEP = "too_deep"
    TOO_MANY_CHILDREN = "too_many_children"
    INVALID_PATH = "invalid_path"


class TreeError(Exception):
    """A tree operation that cannot be done; ``code`` says which rule it broke."""

    def __init__(self, code: TreeErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _too_deep() -> TreeError:
    return TreeError(
        TreeErrorCode.TOO_DEEP, str(_("The tree cannot be deeper than %(depth)d levels.") % {"depth": MAX_DEPTH})
    )


# --- paths as strings: no database needed ---------------------------------------------------------


def encode_step(number: int) -> str:
    """The fixed-width step for the ``number``-th child (1-based)."""
    if not 0 <= number <= MAX_STEP_NUMBER:
        raise TreeError(TreeErrorCode.TOO_MANY_CHILDREN, str(_("A node cannot have more children.")))
    characters = []
    for _position in range(STEP_LENGTH):
        number, remainder = divmod(number, len(ALPHABET))
        characters.append(ALPHABET[remainder])
    return "".join(reversed(characters))


def decode_step(step: str) -> int:
    if len(step) != STEP_LENGTH or any(character not in _ALPHABET_INDEX for character in step):
        raise TreeError(TreeErrorCode.INVALID_PATH, str(_("Not a valid path step: %(step)r.") % {"step": step}))
    number = 0
    for character in step:
        number = number * len(ALPHABET) + _ALPHABET_INDEX[character]
    return number


def validate_path(path: str) -> None:
    if (
        not path
        or len(path) % STEP_LENGTH
        or len(path) > PATH_MAX_LENGTH
        or any(character not in _ALPHABET_INDEX for character in path)
    ):
        raise TreeError(TreeErrorCode.INVALID_PATH, str(_("Not a valid tree path: %(path)r.") % {"path": path}))


def child_path(parent_path: str | None, number: int) -> str:
    path = (parent_path or "") + encode_step(number)
    if len(path) > PATH_MAX_LENGTH:
        raise _too_deep()
    return path


def path_depth(path: str) -> int:
    return len(path) // STEP_LENGTH


def parent_path(path: str) -> str | None:
    return path[:-STEP_LENGTH] or None


def ancestor_paths(path: str, *, include_self: bool = False) -> list[str]:
    """Paths of the ancestors, root first, computed from the string alone."""
    end = len(path) + (STEP_LENGTH if include_self else 0)
    return [path[:length] for length in range(STEP_LENGTH, end, STEP_LENGTH)]


def is_within(path: str, root_path: str) -> bool:
    """True when ``path`` is ``root_path`` or lies below it."""
    return path.startswith(root_path)


def subtree_upper_bound(path: str) -> str | None:
    """The smallest string greater than every path that starts with ``path``; None when none exists.

    Trailing "Z"s are dropped and the last remaining character is raised by one: for "0001ZZZZ" the
    bound is "0002", not "00020000" (which "0002" itself, a different root, would slip under).
    """
    stripped = path.rstrip(ALPHABET[-1])
    if not stripped:
        return None
    return stripped[:-1] + ALPHABET[_ALPHABET_INDEX[stripped[-1]] + 1]


def subtree_q(path: str, *, field: str = "path", include_self: bool = True) -> Q:
    """A filter for the subtree at ``path`` that a B-tree index answers as one range scan.

    ``field`` may follow relations, e.g. ``subtree_q(institution.path, field="institution__path")``.
    """
    lower = Q(**{f"{field}__gte" if include_self else f"{field}__gt": path})
    upper = subtree_upper_bound(path)
    return lower if upper is None else lower & Q(**{f"{field}__lt": upper})


class PathAllocator:
    """Hands out child paths in memory, for bulk loads that insert many nodes with ``bulk_create``.

    Start it from the paths already stored (``existing``) so that new paths do not collide; the
    unique index still guards against a concurrent writer.
    """

    def __init__(self, existing: dict[str | None, int] | None = None) -> None:
        self._last_number: dict[str | None, int] = dict(existing or {})

    def next_child(self, parent_path: str | None) -> str:
        number = self._last_number.get(parent_path, 0) + 1
        self._last_number[parent_path] = number
        return child_path(parent_path, number)


# --- the model mixin ------------------------------------------------------------------------------


class TreeNode(models.Model):
    """Abstract base for a materialised-path tree. Subclasses inherit ``Meta`` to keep the checks:
    ``class Meta(TreeNode.Meta): ...``. Create and move nodes with :func:`tree_node_create` and
    :func:`tree_node_move` (from a service), never by setting ``path`` by hand."""

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    path = models.CharField(_("path"), max_length=PATH_MAX_LENGTH, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False)
    parent_id: Any

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("path"), F("depth") * STEP_LENGTH), name="%(app_label)s_%(class)s_path_depth"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, depth=1) | Q(parent__isnull=False, depth__gt=1),
                name="%(app_label)s_%(class)s_root_depth",
            ),
        ]

    def ancestor_paths(self, *, include_self: bool = False) -> list[str]:
        return ancestor_paths(self.path, include_self=include_self)

    def is_within(self, other: TreeNode) -> bool:
        """True when this node is ``other`` or lies below it (no query)."""
        return is_within(self.path, other.path)

    def subtree_q(self, *, field: str = "path", include_self: bool = True) -> Q:
        return subtree_q(self.path, field=field, include_self=include_self)


NodeT = TypeVar("NodeT", bound=TreeNode)
ResultT = TypeVar("ResultT")


def tree_next_child_path(model: type[TreeNode], parent_path: str | None) -> str:
    """The path after the last existing child of ``parent_path`` (a root when None).

    The greatest path in the parent's subtree starts with the path of its last child, so one
    backward probe of the path index finds it, however many nodes the subtree holds.
    """
    nodes = model._default_manager.all()
    if parent_path is not None:
        nodes = nodes.filter(subtree_q(parent_path, include_self=False))
    greatest = nodes.order_by("-path").values_list("path", flat=True).first()
    prefix_length = len(parent_path or "")
    last_number = 0 if greatest is None else decode_step(greatest[prefix_length : prefix_length + STEP_LENGTH])
    return child_path(parent_path, last_number + 1)


def _with_path_retry(model: type[TreeNode], attempt: Callable[[list[str]], ResultT]) -> ResultT:
    """Run ``attempt`` in a savepoint; when it loses a race for a path, run it again.

    ``attempt`` appends the path it is about to take to the list it is given. Losing a race shows as
    an IntegrityError on the unique path index (two new roots, or a writer that skipped the lock);
    any other IntegrityError (a duplicate code, say) is not ours to retry and propagates.
    """
    for attempt_number in range(1, CREATE_ATTEMPTS + 1):
        claimed: list[str] = []
        try:
            with transaction.atomic():
                return attempt(claimed)
        except IntegrityError:
            lost_race = bool(claimed) and model._default_manager.filter(path=claimed[-1]).exists()
            if not lost_race or attempt_number == CREATE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _lock_roots(model: type[TreeNode]) -> None:
    """Serialise new roots on PostgreSQL, which have no parent row to lock, so that a burst of them
    does not exhaust the retries; the lock ends with the transaction."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"lapor.tree.roots:{model._meta.db_table}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _lock(model: type[NodeT], pk: Any) -> NodeT | None:
    # FOR NO KEY UPDATE: conflicts with itself, so tree writers take turns, but not with the KEY SHARE
    # lock that PostgreSQL's foreign-key checks take, so rows that merely point at the node (a new
    # child inserted by a loader, a report dispatched to an institution) are never held up by it.
    return model._default_manager.select_for_update(no_key=True).filter(pk=pk).first()


def tree_node_create(model: type[NodeT], *, parent: NodeT | None, **fields: Any) -> NodeT:
    """Insert a node as the last child of ``parent`` (a root when None) and return it.

    On PostgreSQL the parent row is locked with SELECT ... FOR NO KEY UPDATE (roots take an advisory lock),
    so concurrent inserts under one parent take turns instead of computing the same next path; a
    writer that skips the locks (a bulk load) is caught by the unique index and the insert retried
    with the next free step. On SQLite the IMMEDIATE transaction mode already serialises writers.
    Call it from a service, inside its ``transaction.atomic()``.
    """

    def attempt(claimed: list[str]) -> NodeT:
        locked_parent: NodeT | None = None
        if parent is None:
            _lock_roots(model)
        else:
            # Re-read under the lock: the caller's copy may predate a move of the parent.
            locked_parent = _lock(model, parent.pk)
            if locked_parent is None:
                raise TreeError(TreeErrorCode.UNKNOWN_PARENT, str(_("The parent does not exist.")))
        path = tree_next_child_path(model, locked_parent.path if locked_parent else None)
        claimed.append(path)
        node = model(parent=locked_parent, path=path, depth=path_depth(path), **fields)
        node.save(force_insert=True)
        return node

    return _with_path_retry(model, attempt)


def tree_bulk_create(model: type[NodeT], nodes: Iterable[NodeT], *, batch_size: int = 2000) -> list[NodeT]:
    """Insert many nodes whose ``path`` was computed in Python (see :class:`PathAllocator`).

    Nodes go in level by level so that each row's parent exists and is known before the row: the
    parent comes from the path, either among ``nodes`` or already in the database. ``depth`` is set
    from the path. For loaders and benchmarks; it takes no locks, so run it on a quiet table (a
    concurrent ``tree_node_create`` that collides is caught by the unique index and retries).
    """
    manager = model._default_manager
    ordered = sorted(nodes, key=lambda node: len(node.path))
    own_paths = {node.path for node in ordered}
    outside = {parent for node in ordered if (parent := parent_path(node.path)) and parent not in own_paths}
    ids: dict[str, Any] = dict(manager.filter(path__in=outside).values_list("path", "pk")) if outside else {}
    missing = outside - ids.keys()
    if missing:
        raise TreeError(
            TreeErrorCode.UNKNOWN_PARENT,
            str(_("Parents missing for paths: %(paths)s") % {"paths": sorted(missing)[:5]}),
        )
    connection = connections[router.db_for_write(model)]
    start = 0
    while start < len(ordered):
        depth = path_depth(ordered[start].path)
        end = start
        while end < len(ordered) and path_depth(ordered[end].path) == depth:
            end += 1
        level = ordered[start:end]
        for node in level:
            validate_path(node.path)
            node.depth = depth
            parent = parent_path(node.path)
            node.parent_id = ids[parent] if parent else None
        manager.bulk_create(level, batch_size=batch_size)
        if connection.features.can_return_rows_from_bulk_insert:
            ids.update((node.path, node.pk) for node in level)
        else:  # pragma: no cover - both supported databases return the new keys
            ids.update(manager.filter(path__in=[node.path for node in level]).values_list("path", "pk"))
        start = end
    return ordered


def tree_node_move(node: NodeT, *, new_parent: NodeT | None) -> NodeT:
    """Make ``node`` the last child of ``new_parent`` (a root when None), taking its subtree along.

    Every path in the subtree is rewritten by one UPDATE over the subtree's index range. Moves are
    rare administrative acts, so they may cost what inserts must not. Returns ``node`` refreshed.
    """
    model = type(node)
    manager = model._default_manager

    def attempt(claimed: list[str]) -> None:
        # Lock both rows in primary-key order so two crossing moves cannot deadlock.
        wanted = [node.pk] if new_parent is None else sorted({node.pk, new_parent.pk})
        locked = {row.pk: row for row in manager.select_for_update(no_key=True).filter(pk__in=wanted).order_by("pk")}
        current = locked.get(node.pk)
        if current is None:
            raise TreeError(TreeErrorCode.UNKNOWN_NODE, str(_("The node to move does not exist.")))
        target: NodeT | None = None
        if new_parent is not None:
            target = locked.get(new_parent.pk)
            if target is None:
                raise TreeError(TreeErrorCode.UNKNOWN_PARENT, str(_("The new parent does not exist.")))
            if is_within(target.path, current.path):
                raise TreeError(
                    TreeErrorCode.MOVE_INTO_OWN_SUBTREE,
                    str(_("A node cannot be moved under itself or its descendants.")),
                )
        if current.parent_id == (target.pk if target else None):
            return
        new_path = tree_next_child_path(model, target.path if target else None)
        claimed.append(new_path)
        depth_change = path_depth(new_path) - current.depth
        subtree = manager.filter(subtree_q(current.path))
        if depth_change > 0:
            deepest = subtree.aggregate(deepest=Max("depth"))["deepest"]
            if deepest + depth_change > MAX_DEPTH:
                raise _too_deep()
        # One statement, so that no row is ever seen (or checked) with a parent and depth that disagree.
        subtree.update(
            path=Concat(Value(new_path), Substr("path", len(current.path) + 1)),
            depth=F("depth") + depth_change,
            parent=Case(
                When(pk=current.pk, then=Value(target.pk if target else None)),
                default=F("parent"),
                output_field=model._meta.get_field("parent").target_field,  # type: ignore[union-attr]
            ),
        )

    _with_path_retry(model, attempt)
    node.refresh_from_db(fields=["parent", "path", "depth"])
    return node
