"""The materialised-path mixin (lapor.core.tree), exercised through Institution and Category."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from lapor.core.tree import (
    ALPHABET,
    MAX_DEPTH,
    MAX_STEP_NUMBER,
    STEP_LENGTH,
    PathAllocator,
    TreeError,
    TreeErrorCode,
    ancestor_paths,
    child_path,
    decode_step,
    encode_step,
    is_within,
    parent_path,
    path_depth,
    subtree_q,
    subtree_upper_bound,
    validate_path,
)
from lapor.institutions.choices import InstitutionKind
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.models import Category, Institution
from lapor.institutions.selectors import institution_ancestors, institution_subtree
from lapor.institutions.services import category_create, category_move, institution_create, institution_move

UNIT = InstitutionKind.WORK_UNIT


def make(name: str, parent: Institution | None = None, **extra: Any) -> Institution:
    return institution_create(name=name, kind=UNIT, parent=parent, **extra)


# --- strings ----------------------------------------------------------------------------------------


def test_steps_are_fixed_width_base36():
    assert encode_step(1) == "0001"
    assert encode_step(35) == "000Z"
    assert encode_step(36) == "0010"
    assert encode_step(MAX_STEP_NUMBER) == "ZZZZ"
    assert decode_step("0010") == 36
    with pytest.raises(TreeError) as error:
        encode_step(MAX_STEP_NUMBER + 1)
    assert error.value.code == TreeErrorCode.TOO_MANY_CHILDREN
    with pytest.raises(TreeError):
        decode_step("00a1")


@given(st.integers(min_value=0, max_value=MAX_STEP_NUMBER))
def test_step_round_trip_and_order(number):
    step = encode_step(number)
    assert len(step) == STEP_LENGTH
    assert decode_step(step) == number
    if number < MAX_STEP_NUMBER:
        assert step < encode_step(number + 1)


def test_ancestors_parent_and_depth_come_from_the_string():
    path = "0003001A0002"
    assert ancestor_paths(path) == ["0003", "0003001A"]
    assert ancestor_paths(path, include_self=True) == ["0003", "0003001A", "0003001A0002"]
    assert ancestor_paths("0003") == []
    assert parent_path(path) == "0003001A"
    assert parent_path("0003") is None
    assert path_depth(path) == 3
    assert is_within(path, "0003")
    assert is_within(path, path)
    assert not is_within("00030001", "0003001A")
    assert child_path("0003", 2) == "00030002"
    validate_path(path)
    for bad in ["", "000", "0003a", "0003-001"]:
        with pytest.raises(TreeError):
            validate_path(bad)


def test_upper_bound_skips_trailing_z_instead_of_carrying():
    assert subtree_upper_bound("0001") == "0002"
    assert subtree_upper_bound("0009") == "000A"
    # "00020000" would let the root "0002" into the subtree of "0001ZZZZ".
    assert subtree_upper_bound("0001ZZZZ") == "0002"
    assert subtree_upper_bound("ZZZZ") is None
    assert subtree_upper_bound("ZZZZZZZZ") is None


def test_subtree_q_follows_relations():
    condition = subtree_q("0001", field="institution__path")
    assert ("institution__path__gte", "0001") in condition.children
    assert ("institution__path__lt", "0002") in condition.children
    assert subtree_q("ZZZZ").children == [("path__gte", "ZZZZ")]
    assert subtree_q("0001", include_self=False).children[0] == ("path__gt", "0001")


paths = st.lists(st.sampled_from("0129AYZ"), min_size=1, max_size=3 * STEP_LENGTH).map("".join)


@given(root=st.sampled_from(["0001", "000Z", "0001ZZZZ", "Z00Z", "ZZZZ", "ZZZZ0001"]), others=st.sets(paths))
def test_range_bounds_select_exactly_the_paths_with_the_prefix(root, others):
    # Python compares strings by code point, as SQLite's BINARY and PostgreSQL's "C" collations do;
    # tests/institutions/test_postgres.py checks a linguistic (ICU en-US) collation too.
    upper = subtree_upper_bound(root)
    for other in others | {root}:
        in_range = other >= root and (upper is None or other < upper)
        assert in_range == other.startswith(root), other


def test_allocator_continues_from_existing_numbers():
    allocator = PathAllocator({None: 2, "0001": 35})
    assert allocator.next_child(None) == "0003"
    assert allocator.next_child("0001") == "00010010"
    assert allocator.next_child("0003") == "00030001"


# --- the database -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_children_take_the_next_free_step():
    first_root = make("Kementerian A")
    second_root = make("Kementerian B")
    child_one = make("Direktorat 1", first_root)
    child_two = make("Direktorat 2", first_root)
    grandchild = make("Subdirektorat", child_two)
    assert (first_root.path, second_root.path) == ("0001", "0002")
    assert (child_one.path, child_two.path) == ("00010001", "00010002")
    assert grandchild.path == "000100020001"
    assert [first_root.depth, child_one.depth, grandchild.depth] == [1, 2, 3]
    assert grandchild.parent_id == child_two.pk
    # Deleting the last child frees its step: the next path follows the greatest remaining one.
    child_two_path = child_two.path
    Institution.objects.filter(pk=grandchild.pk).delete()
    Institution.objects.filter(pk=child_two.pk).delete()
    child_three = make("Direktorat 3", first_root)
    assert child_three.path == child_two_path
    # The greatest path below the root is now a grandchild; its first two steps name the last child.
    assert make("Subdirektorat 3", child_three).path == "000100020001"
    assert make("Direktorat 4", first_root).path == "00010003"


@pytest.mark.django_db
def test_creation_uses_the_parents_current_path_not_a_stale_copy():
    old_home = make("Lama")
    new_home = make("Baru")
    unit = make("Unit", old_home)
    stale_copy = Institution.objects.get(pk=unit.pk)
    institution_move(institution=unit, new_parent=new_home)
    child = make("Seksi", stale_copy)
    assert child.path == unit.path + "0001"
    assert child.path.startswith(new_home.path)


def build_tree() -> dict[str, Institution]:
    """Three roots; the middle one five levels deep, with siblings at every level."""
    make("Sebelum")
    root = make("Akar")
    make("Sesudah")
    nodes = {"root": root}
    level = [root]
    for depth in range(2, 6):
        next_level = []
        for parent in level[:2]:
            for sibling in range(2):
                next_level.append(make(f"L{depth}-{parent.pk}-{sibling}", parent))
        level = next_level
    nodes["deepest"] = level[-1]
    return nodes


@pytest.mark.django_db
def test_subtree_and_ancestors_match_the_adjacency_at_every_depth(django_assert_num_queries):
    build_tree()
    every = {node.pk: node for node in Institution.objects.all()}

    def below(node: Institution) -> set[int]:
        found = {node.pk}
        frontier = [node.pk]
        while frontier:
            children = [pk for pk, other in every.items() if other.parent_id in frontier]
            found.update(children)
            frontier = children
        return found

    def above(node: Institution) -> list[int]:
        chain = []
        while node.parent_id is not None:
            node = every[node.parent_id]
            chain.append(node.pk)
        return list(reversed(chain))

    for node in every.values():
        with django_assert_num_queries(1):
            subtree = list(institution_subtree(node))
        assert {unit.pk for unit in subtree} == below(node)
        assert [unit.path for unit in subtree] == sorted(unit.path for unit in subtree)
        if node.parent_id is None:
            assert list(institution_ancestors(node)) == []
            continue
        with django_assert_num_queries(1):
            ancestors = list(institution_ancestors(node))
        assert [unit.pk for unit in ancestors] == above(node)
        assert [unit.pk for unit in institution_ancestors(node, include_self=True)] == [*above(node), node.pk]


@pytest.mark.django_db
def test_move_rewrites_the_subtree_and_keeps_it_whole():
    old_parent = make("Pemerintah Kabupaten")
    new_parent = make("Pemerintah Kota")
    make("Unit lama tetap", old_parent)
    moving = make("Kecamatan", old_parent)
    village = make("Kelurahan", moving)
    office = make("Seksi", village)
    make("Anak kota", new_parent)
    before = {unit.pk: unit.name for unit in institution_subtree(moving)}

    with CaptureQueriesContext(connection) as queries:
        moved = institution_move(institution=moving, new_parent=new_parent)
    path_updates = [query["sql"] for query in queries if query["sql"].startswith("UPDATE") and '"path"' in query["sql"]]
    assert len(path_updates) == 1, "the whole subtree moves in one UPDATE"

    assert moved.parent_id == new_parent.pk
    assert moved.path == new_parent.path + "0002"
    assert moved.depth == 2
    assert {unit.pk: unit.name for unit in institution_subtree(moved)} == before
    office.refresh_from_db()
    village.refresh_from_db()
    assert office.path == moved.path + "00010001"
    assert (village.depth, office.depth) == (3, 4)
    assert village.parent_id == moved.pk
    assert moving.pk not in {unit.pk for unit in institution_subtree(old_parent)}
    assert [unit.pk for unit in institution_ancestors(office)] == [new_parent.pk, moved.pk, village.pk]


@pytest.mark.django_db
def test_move_to_the_top_and_back():
    parent = make("Induk")
    unit = make("Unit", parent)
    child = make("Subunit", unit)
    institution_move(institution=unit, new_parent=None)
    child.refresh_from_db()
    assert (unit.parent_id, unit.depth, unit.path) == (None, 1, "0002")
    assert (child.depth, child.path) == (2, "00020001")
    institution_move(institution=unit, new_parent=parent)
    child.refresh_from_db()
    assert (unit.depth, child.depth, child.path) == (2, 3, "000100010001")


@pytest.mark.django_db
def test_move_under_the_same_parent_changes_nothing():
    parent = make("Induk")
    unit = make("Unit", parent)
    path = unit.path
    institution_move(institution=unit, new_parent=parent)
    assert unit.path == path


@pytest.mark.django_db
def test_move_under_itself_or_a_descendant_is_refused():
    root = make("Induk")
    unit = make("Unit", root)
    grandchild = make("Cucu", make("Anak", unit))
    for target in (unit, grandchild):
        with pytest.raises(InstitutionError) as error:
            institution_move(institution=unit, new_parent=target)
        assert error.value.code == InstitutionErrorCode.MOVE_INTO_OWN_SUBTREE
    unit.refresh_from_db()
    assert unit.parent_id == root.pk
    assert grandchild.path.startswith(unit.path)


@pytest.mark.django_db
def test_move_and_create_respect_the_maximum_depth():
    chain = [make("Level 1")]
    for level in range(2, MAX_DEPTH + 1):
        chain.append(make(f"Level {level}", chain[-1]))
    assert chain[-1].depth == MAX_DEPTH
    with pytest.raises(InstitutionError) as error:
        make("Too deep", chain[-1])
    assert error.value.code == InstitutionErrorCode.TREE_TOO_DEEP
    pair = make("Pair")
    make("Pair child", pair)
    with pytest.raises(InstitutionError) as error:
        institution_move(institution=pair, new_parent=chain[-2])
    assert error.value.code == InstitutionErrorCode.TREE_TOO_DEEP


@pytest.mark.django_db
def test_a_full_level_refuses_more_children():
    Institution.objects.create(name="Last root", code="last-root", kind=UNIT, path="ZZZZ", depth=1)
    with pytest.raises(InstitutionError) as error:
        make("One too many")
    assert error.value.code == InstitutionErrorCode.TOO_MANY_CHILDREN


@pytest.mark.django_db
def test_the_database_rejects_a_depth_that_does_not_match_the_path():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Institution.objects.create(name="Broken", code="broken", kind=UNIT, path="00010001", depth=1)


@pytest.mark.django_db
def test_categories_share_the_mixin():
    top = category_create(code="a", name="A")
    other = category_create(code="b", name="B")
    sub = category_create(code="a-1", name="A 1", parent=top)
    category_move(category=sub, new_parent=other)
    assert sub.path == other.path + "0001"
    with pytest.raises(InstitutionError) as error:
        category_move(category=other, new_parent=sub)
    assert error.value.code == InstitutionErrorCode.MOVE_INTO_OWN_SUBTREE
    assert list(Category.objects.filter(subtree_q(other.path)).values_list("code", flat=True)) == ["b", "a-1"]
    assert ALPHABET[-1] == "Z"
