"""The Jinja2 environments of the release documents: templates ship inside the package (`templates/`), every variable
must exist (`StrictUndefined`), and HTML output is escaped; Markdown output is not.

HTML escaping is the standard library's `html.escape` (`&quot;`, `&#x27;`), applied to every value a template prints
unless it is already markup (a macro's output): the same bytes the report always had, rather than MarkupSafe's
`&#34;` and `&#39;`.
"""

from __future__ import annotations

import functools
import html

import jinja2
from markupsafe import Markup

from release.documents.facts import dups, stage_line

TEMPLATE_PACKAGE = "release.documents"
TEMPLATE_FOLDER = "templates"

DONE = {"exclude": "excluded", "quarantine": "quarantined", "allow": "allowed"}


def num(n) -> str:
    """An integer with thousands separators: 12,345."""
    return f"{n:,}"


def pct(x: float) -> str:
    """A share as a percentage with one decimal: 0.1234 → 12.3%."""
    return f"{x:.1%}"


def val(v) -> str:
    """A summary value in words: None is "not applicable", a list is comma-joined ("none" when empty)."""
    if v is None:
        return "not applicable"
    if isinstance(v, list):
        return ", ".join(map(str, v)) if v else "none"
    return str(v)


def yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def name_link(x: dict) -> str:
    """A source's name, as a Markdown link when it has a URL."""
    return f"[{x['name']}]({x['url']})" if x.get("url") else x["name"]


def joined(items, sep: str) -> str:
    """`sep.join` of the items as text; unlike Jinja's `join`, it leaves the escaping to the output."""
    return sep.join(map(str, items))


def _escape_html(value):
    """`finalize` of the HTML environment: escape what is not markup yet, with the standard library's escaping."""
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value), quote=True))


FILTERS = {"num": num, "pct": pct, "val": val, "yes": yes, "name_link": name_link, "done": DONE.__getitem__,
           "joined": joined, "dups": dups, "stage_line": stage_line}  # fmt: skip


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(TEMPLATE_PACKAGE, TEMPLATE_FOLDER),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False)
        if autoescape
        else False,
        finalize=_escape_html if autoescape else None,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


@functools.cache
def markdown_environment() -> jinja2.Environment:
    """Markdown templates (`*.md.j2`): no escaping."""
    return _environment(autoescape=False)


@functools.cache
def html_environment() -> jinja2.Environment:
    """HTML templates (`*.html.j2`): every printed value escaped; included CSS (`*.css`) as it is."""
    return _environment(autoescape=True)


def render(template: str, **context) -> str:
    """Render a template of `templates/` by name; the environment follows the name (`.html.j2` or `.md.j2`)."""
    env = html_environment() if template.endswith(".html.j2") else markdown_environment()
    return env.get_template(template).render(**context)
