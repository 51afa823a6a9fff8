"""The option lists of the filing form (categories, the regions below a region), kept by the process.

Every visit of the filing form offered the same categories and provinces, and every choice of a
region the same children, each read from the database and turned into choices again. They change a
few times a year (the admin, `categories_load`, `regions_load`), so they live in the reference cache
(`lapor.core.reference`), like the holidays and the deadline overrides:

- a write in this process empties it at once: the save and delete signals of Category and Region
  (connected in the apps' ready()), and the bulk loads and tree moves, which send no signals, call
  ``reference.changed()`` themselves;
- another process sees the change when its entry expires, within ``REFERENCE_CACHE_SECONDS`` (60 s by
  default). A short lifetime rather than a shared version number: checking a version would cost a
  query (or a cache round trip) per request, the very thing saved, and a new category or a renamed
  village may take a minute to reach every worker without harm.

Category names depend on the language, so categories are kept per language; region names do not. At
most every region's children are kept once, the size of the region table's codes and names: a code
with no children (a village, or a code made up by a visitor) is read every time and kept nowhere.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from lapor.core import reference
from lapor.institutions.models import Category
from lapor.institutions.selectors import category_tree
from lapor.regions.codes import is_region_code
from lapor.regions.selectors import region_children

Choices = tuple[tuple[str, str], ...]


def category_name(category: Category) -> str:
    """The category's name in the current language (Indonesian when it has no English one)."""
    if (get_language() or "").startswith("en") and category.name_en:
        return category.name_en
    return category.name


def category_choices() -> Choices:
    """The active categories in tree order, indented by depth, after "I do not know"."""
    return reference.cached(("filing-category-choices", get_language()), _category_choices)


def _category_choices() -> Choices:
    indented = [(category.code, ("— " * category.depth) + category_name(category)) for category in category_tree()]
    return (("", _("I do not know")), *indented)


def region_choices(parent: str | None) -> Choices:
    """The active regions below ``parent`` (the provinces for None), by code, without the empty choice."""
    return reference.cached(("filing-region-choices", parent), lambda: _region_choices(parent), keep=bool)


def _region_choices(parent: str | None) -> Choices:
    return tuple(region_children(parent).values_list("code", "name"))


def region_options_html(parent: str) -> str:
    """The ``<option>``s of the regions below ``parent``, for htmx to swap into the next list."""
    if not is_region_code(parent) or not region_choices(parent):
        return _region_options_html(())
    return reference.cached(
        ("filing-region-options", parent, get_language()), lambda: _region_options_html(region_choices(parent))
    )


def _region_options_html(regions: Choices) -> str:
    return render_to_string("portal/filing/_region_options.html", {"regions": regions})
