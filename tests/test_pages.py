"""The permalink page: filled into a skeleton of article.html, it must read exactly as the
template rendered in full would, whatever the values and whichever optional parts show."""

import dataclasses
import itertools
from zoneinfo import ZoneInfo

import pytest
from factories import SITE, make_article

from feeds.render.pages import render_article_page, templates
from feeds.render.times import show_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOSTILE = '<feeds-hole:title> & "q" <script>alert(1)</script>'


def _template_page(site, article):
    html = (
        templates(site.language)
        .get_template("article.html")
        .render(
            site=site,
            article=article,
            home=site.base_url,
            published=show_time(article.published, SHANGHAI),
            categories=" / ".join(" › ".join(path) for path in article.categories),
        )
    )
    return html.encode("utf-8")


@pytest.mark.parametrize("language", ["zh-CN", "zh-TW", "en"])
@pytest.mark.parametrize("shape", list(itertools.product([False, True], repeat=4)))
def test_every_shape_reads_as_the_template_renders_it(shape, language):
    author, editor, categories, link = shape
    site = dataclasses.replace(SITE, language=language)
    article = make_article(
        "a",
        title=HOSTILE,
        author=HOSTILE if author else None,
        editor=HOSTILE if editor else None,
        categories=((HOSTILE, "子类"),) if categories else (),
        link="https://example.org/a?x=1&y=<2>" if link else None,
        content="<p>正文 <feeds-hole:title> {braces}</p>",
    )
    page = render_article_page(site, article, SHANGHAI)
    assert page == _template_page(site, article)
    assert b"<script>" not in page
    assert page.count(b"<feeds-hole:title>") == 1  # the body's own text, kept as it was


def test_a_site_title_that_spells_a_hole_is_text():
    site = dataclasses.replace(SITE, title="<feeds-hole:content>")
    article = make_article("a", content="<p>正文</p>")
    page = render_article_page(site, article, SHANGHAI)
    assert page == _template_page(site, article)
    assert page.count(b"<p>\xe6\xad\xa3\xe6\x96\x87</p>") == 1
