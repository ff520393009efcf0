import os
import shutil

import pytest
from feedcheck import assert_documents_valid, assert_parses_cleanly
from sites import FIXED_MTIME, article_text, make_site

from feeds.tree.urls import entry_id


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path)


def test_the_examples_build_the_whole_tree(site, atom_schema):
    report = site.build()
    assert report.ok, report.errors
    assert report.articles_found == report.articles_published >= 30
    tree = site.tree()
    assert {"index.html", "opml.xml", "feeds/all.atom", "feeds/finance.rss"} <= set(tree)
    pages = [p for p in tree if p.startswith("articles/")]
    assert len(pages) == report.articles_found
    feeds = {p.rsplit(".", 1)[0] for p in tree if p.startswith("feeds/")}
    assert len(feeds) == report.feeds > 5  # configured + all + a feed per category node
    assert_documents_valid(tree, atom_schema)


def test_every_feed_is_linked_from_the_index_and_the_opml(site):
    site.build()
    tree = site.tree()
    index, opml = tree["index.html"].decode(), tree["opml.xml"].decode()
    for path in tree:
        if path.startswith("feeds/"):  # every document, and the view of each feed
            url = f"http://127.0.0.1:8080/{path}"
            assert f'href="{url}"' in index, path
            if path.endswith(".atom"):
                assert f'xmlUrl="{url}"' in opml, path
            if path.endswith(".html"):
                assert f'htmlUrl="{url}"' in opml, path
    documents = [p for p in tree if p.startswith("feeds/") and not p.endswith(".html")]
    assert index.count('rel="alternate"') == len(documents)


def test_no_cruft_reaches_the_feeds(site):
    site.build()
    for path, data in site.tree().items():
        text = data.decode()
        for cruft in ("appendQr_wrap", "article-editor", "&lt;style", "&lt;!--", "新浪财经APP"):
            assert cruft not in text, (path, cruft)


def test_two_builds_of_the_same_input_give_the_same_bytes(tmp_path):
    first, second = make_site(tmp_path / "one"), make_site(tmp_path / "two")
    first.build()
    second.build()
    assert first.tree() == second.tree()
    before = first.tree()
    again = first.build()
    assert again.files_read == again.files_written == again.feeds_changed == 0
    assert first.tree() == before


def test_an_edit_keeps_the_entry_id_and_changes_updated(site):
    path = site.write("edited.txt", article_text("要编辑的文章", body="<p>第一版</p>"))
    site.build()
    before = assert_parses_cleanly((site.public / "feeds/all.atom").read_bytes())
    site.write(
        "edited.txt", article_text("要编辑的文章", body="<p>第二版</p>"), FIXED_MTIME + 10**8
    )
    report = site.build()
    after = assert_parses_cleanly((site.public / "feeds/all.atom").read_bytes())

    def entry(parsed):
        return next(e for e in parsed.entries if e.title == "要编辑的文章")

    assert entry(before).id == entry(after).id == entry_id("edited")
    assert entry(after).updated_parsed > entry(before).updated_parsed
    assert "第二版" in entry(after).content[0].value
    assert report.feeds_changed < report.feeds  # feeds without the article kept their bytes
    assert path.exists()


def test_broken_articles_are_reported_and_the_good_ones_published(site):
    site.write("broken/no-front-matter.txt", "<p>just a body</p>")
    site.write("broken/bad-yaml.txt", "---\ntitle: a: b\n---\nbody")
    site.write("broken/bad-date.txt", article_text("坏日期", date="next tuesday"))
    report = site.build()
    assert not report.ok
    assert report.articles_failed == 3
    assert report.articles_published == report.articles_found - 3 >= 30
    joined = "\n".join(report.errors)
    assert "broken/no-front-matter.txt:1:" in joined
    assert "broken/bad-yaml.txt:2:" in joined
    assert "broken/bad-date.txt" in joined and "next tuesday" in joined
    assert (site.public / "feeds/all.atom").exists()


def test_a_feed_whose_category_disappears_is_removed(site):
    site.write("solo.txt", article_text("独苗", categories="[孤立栏目]"))
    site.build()
    solo = [p for p in site.tree() if p.startswith("feeds/") and "gu-li-lan-mu" in p]
    assert len(solo) == 4  # three documents and the view
    (site.articles / "solo.txt").unlink()
    report = site.build()
    assert report.files_removed == 5  # the three documents, the view and the article page
    assert not any("gu-li-lan-mu" in p for p in site.tree())


def test_a_failed_article_keeps_its_published_page(site):
    site.write("fragile.txt", article_text("会坏的文章"))
    site.build()
    page = site.public / "articles/fragile.html"
    assert page.exists()
    site.write("fragile.txt", "---\ntitle: [unclosed\n---\n")
    report = site.build()
    assert not report.ok
    assert page.exists(), "the last good page must stay published"


def test_duplicate_front_matter_ids_are_reported(site):
    site.write("a/one.txt", article_text("一", extra="id: same\n"))
    site.write("b/two.txt", article_text("二", extra="id: same\n"))
    report = site.build()
    assert any("b/two.txt" in e and "a/one.txt" in e for e in report.errors)
    assert report.articles_failed == 1  # the file left out
    assert report.articles_published == report.articles_found - 1
    again = site.build()  # nothing changed: still an error until one of them is fixed
    assert any("b/two.txt" in e and "a/one.txt" in e for e in again.errors)
    assert not again.ok and again.articles_failed == 1


def test_same_file_names_in_two_folders_do_not_collide(site):
    site.write("2022/a.txt", article_text("甲"))
    site.write("2023/a.txt", article_text("乙"))
    assert site.build().ok
    assert (site.public / "articles/2022/a.html").exists()
    assert (site.public / "articles/2023/a.html").exists()


def test_hidden_temp_and_foreign_files_are_ignored(site):
    site.write(".hidden.txt", "not an article")
    site.write("draft.txt~", "not an article")
    site.write(".draft.txt.swp", "not an article")
    site.write("notes.pdf", "not an article")
    report = site.build()
    assert report.ok, report.errors
    assert report.articles_found == len(list(site.articles.glob("[0-9]*.txt")))


def test_a_symlink_out_of_the_source_dir_is_not_followed(site, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text(article_text("秘密"))
    os.symlink(outside, site.articles / "link.txt")
    report = site.build()
    assert any("link.txt" in w and "outside" in w for w in report.warnings)
    assert "秘密" not in (site.public / "feeds/all.atom").read_text()


def test_check_writes_nothing(site):
    site.write("bad.txt", "no front matter")
    report = site.build(write=False)
    assert not site.public.exists()
    assert report.articles_failed == 1


def test_the_real_sample_is_published_clean(tmp_path, sample_article):
    site = make_site(tmp_path, examples=False)
    shutil.copyfile(sample_article, site.articles / sample_article.name)
    os.utime(site.articles / sample_article.name, (FIXED_MTIME, FIXED_MTIME))
    report = site.build()
    assert report.ok, report.errors
    entry = assert_parses_cleanly((site.public / "feeds/finance.atom").read_bytes()).entries[0]
    assert entry.title == "教育部升级“国家中小学智慧教育平台”，资源数量增加一倍"
    assert entry.author == "新浪财经"
    assert entry.link == "http://127.0.0.1:8080/articles/000_c956da2606e02062.html"
    assert entry.published_parsed[:6] == (2022, 3, 15, 14, 4, 32)
    content = entry.content[0].value
    assert "智慧教育平台" in content and "appendQr" not in content and "责任编辑" not in content
    assert 'referrerpolicy="no-referrer"' not in content  # the only image was the QR cruft
    page = (site.public / "articles/000_c956da2606e02062.html").read_text()
    assert "王蒙" in page and "2022-03-15 22:04" in page  # shown in Asia/Shanghai
