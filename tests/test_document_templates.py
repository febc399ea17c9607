"""The release documents' Jinja2 templates: shipped as package data, strict about missing variables, and escaping
every value the HTML report prints."""

from __future__ import annotations

import fnmatch
import tomllib
from importlib.resources import files
from pathlib import Path

import jinja2
import pytest

from release.documents import templating
from release.documents.gate import gate_section

TEMPLATES = files("release.documents").joinpath("templates")
EXPECTED = {"approval.html.j2", "card.md.j2", "eu_ai_act_summary.md.j2", "report.html.j2", "report_gate.html.j2",
            "report_macros.html.j2", "report_origin.html.j2", "report.css"}  # fmt: skip


def test_templates_are_package_resources_named_by_the_package_data_glob():
    shipped = {p.name for p in TEMPLATES.iterdir() if p.is_file()}
    assert shipped == EXPECTED
    assert all(TEMPLATES.joinpath(name).read_text(encoding="utf-8").strip() for name in shipped)
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["release"]
    assert all(any(fnmatch.fnmatch(f"documents/templates/{n}", g) for g in globs) for n in shipped)
    assert any(d.startswith("jinja2") for d in pyproject["project"]["dependencies"])


def test_a_missing_variable_fails_the_render():
    with pytest.raises(jinja2.UndefinedError):
        templating.render("card.md.j2")
    with pytest.raises(jinja2.UndefinedError):
        templating.render("report_gate.html.j2", gate_shards=[{"shard": "a"}])


def test_html_values_are_escaped_as_the_standard_library_escapes_them():
    g = {"shard": "eu/<b>\"x\"'&.parquet", "passed": True, "rows": 3, "validation_json": "v/\"x\".json",
         "expectations": [{"expectation": "expect_column_values_to_not_be_null", "column": "<i>", "severity": "warning",
                           "success": False, "unexpected_count": 1234}]}  # fmt: skip
    html = gate_section([g], {"suite": "s<1>"})
    assert "<code>eu/&lt;b&gt;&quot;x&quot;&#x27;&amp;.parquet</code>" in html
    assert '<a href="v/&quot;x&quot;.json">validation JSON</a>' in html
    assert "<code>s&lt;1&gt;</code>" in html and "&lt;i&gt; is never empty" in html and "<i>" not in html
    assert '<td class="n">1,234</td>' in html


def test_markdown_is_not_escaped():
    assert templating.markdown_environment().from_string("{{ x }}").render(x="a<b>&") == "a<b>&"
