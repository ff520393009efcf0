"""How text and queries become search terms, checked against a real FTS5 table: a query
word finds a text exactly when it occurs in it as written, ignoring case and punctuation
around the word; and no query is read as FTS5 syntax."""

import re
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.catalogue.search_index import SCHEMA
from feeds.catalogue.search_terms import match_expression, single_character, split_terms


@pytest.fixture(scope="module")
def index():
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.executescript(SCHEMA)
    return connection


def matches(index, text, query):
    """Whether `query` finds a row holding `text` (as its body)."""
    index.execute("INSERT INTO search (search) VALUES ('delete-all')")
    index.execute("INSERT INTO search (rowid, text) VALUES (1, ?)", (split_terms(text),))
    expression = match_expression(query)
    if not expression:
        return False
    return (
        index.execute("SELECT 1 FROM search WHERE search MATCH ?", (expression,)).fetchall() != []
    )


def test_text_is_written_as_overlapping_pairs():
    assert split_terms("央行行长").decode() == "央行 行行 行长 长  "
    # Case folded, punctuation kept.
    assert split_terms("GDP增长，").decode() == "gd dp p增 增长 长， ，  "
    assert split_terms("") == b""


def test_text_beyond_the_basic_plane_is_paired_the_same_way():
    # An emoji takes two UTF-16 units, a lone surrogate (an undecodable file name) cannot
    # be encoded: both take the slower way, with the same result.
    assert split_terms("涨😀了").decode() == "涨😀 😀了 了  "
    assert split_terms("a\udcffb") == "a\udcff \udcffb b  ".encode("utf-8", "surrogatepass")


def test_a_two_character_word_is_one_term_and_a_longer_one_a_phrase_of_pairs():
    assert match_expression("央行") == '"央行"'
    assert match_expression("存款准备金") == '"存款 款准 准备 备金"'
    assert match_expression("央行 降准") == '"央行" "降准"'  # every word, anywhere


def test_a_single_character_is_a_prefix():
    assert match_expression("股") == '"股" *'


def test_a_query_of_one_character_is_told_apart_as_the_index_holds_it():
    assert single_character("降") == "降"
    assert single_character(" “降”") == "降"  # punctuation around a word is not searched
    assert single_character("Ｇ") == single_character("G") == "g"
    assert single_character("降准") is None
    assert single_character("降 准") is None
    assert single_character("，") is None


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("中国人民银行（央行）宣布降准0.5个百分点", "央行"),
        ("中国人民银行（央行）宣布降准0.5个百分点", "降准"),
        ("央行行长表示", "行长"),  # inside a longer run, on either side
        ("我的央行", "央行"),
        ("A股市场整体估值处于低位", "A股"),
        ("A股市场整体估值处于低位", "a股"),  # case is folded
        ("Ａ股市场", "A股"),  # full-width letters too
        ("ＧＤＰ增长４.６%", "GDP增长4.6"),
        ("增长4.6%", "4.6%"),
        ("“央行”宣布", "“央行”"),
        ("行长", "长"),  # a single character at the end of a run
        ("银行，", "行"),
    ],
)
def test_a_word_is_found_wherever_it_occurs(index, text, query):
    assert matches(index, text, query)


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("央行，行长", "央行长"),  # not across punctuation
        ("中国 人民", "中国人民"),  # nor across a space
        ("增长4.6%", "4,6"),  # punctuation inside a word is searched for as written
        ("央行", "央行长"),
        ("降息", "降准"),
        ("GDP", "GDPR"),
    ],
)
def test_a_word_is_not_found_where_it_does_not_occur(index, text, query):
    assert not matches(index, text, query)


@pytest.mark.parametrize(
    ("query", "same_as"),
    [
        ('"央行', "央行"),
        ('央行"', "央行"),
        ("央行*", "央行"),
        ("-降准", "降准"),
        ("(央行)", "央行"),
    ],
)
def test_punctuation_around_a_word_is_not_searched_for(query, same_as):
    assert match_expression(query) == match_expression(same_as)


@pytest.mark.parametrize(
    "query",
    [
        '"央行',
        "央行*",
        "-降准",
        "(央行)",
        "NEAR(央行 降准)",
        "央行 OR 降准",
        "title:央行",
        "a AND NOT b",
    ],
)
def test_fts5_syntax_is_searched_as_text(index, query):
    expression = match_expression(query)
    # Every word is one quoted phrase: nothing is left for FTS5 to read as an operator.
    assert re.fullmatch(r'("[^"]*"( \*)?)( "[^"]*"( \*)?)*', expression)
    index.execute("SELECT 1 FROM search WHERE search MATCH ?", (expression,)).fetchall()


def test_fts5_operators_are_words_to_find(index):
    assert not matches(index, "央行与降准", "央行 OR 降准")  # OR is not in the text
    assert matches(index, "央行 or 降准", "央行 OR 降准")
    assert matches(index, "央行降准", "-降准")  # not a negation


@pytest.mark.parametrize("query", ["", "   ", "*", '"', "()", "-", '""'])
def test_nothing_to_search_for_gives_no_expression(query):
    assert match_expression(query) == ""


# A small alphabet, so that random texts and queries share characters: CJK, Latin in both
# cases, digits, full-width forms, punctuation, spaces and quotation marks.
ALPHABET = "央行降准中国股aAbB12Ａ１ ,，.-\"'*()\u3000"
_FOLD = str.maketrans("Ａ１", "a1")


def _normalised(text):
    """The reference: lower case, full-width folded, quotation marks and runs of
    whitespace one space."""
    return " " + " ".join(re.sub("[\"']", " ", text.translate(_FOLD).lower()).split()) + " "


def _reference(text, query):
    """Whether every word of the query, without the punctuation around it, occurs in the
    text."""
    words = [re.sub(r"^[\W_]+|[\W_]+$", "", word) for word in query.split()]
    words = [_normalised(word).strip() for word in words if word]
    return bool(words) and all(word in _normalised(text) for word in words)


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(ALPHABET, max_size=30),
    query=st.text(ALPHABET, min_size=1, max_size=6),
    cut=st.tuples(st.integers(0, 30), st.integers(1, 8)),
    from_text=st.booleans(),
)
def test_a_query_finds_a_text_exactly_when_its_words_occur_in_it(
    index, text, query, cut, from_text
):
    if from_text:  # a piece of the text itself: the case that must match
        query = text[cut[0] : cut[0] + cut[1]] or query
    assert matches(index, text, query) == _reference(text, query)


@settings(max_examples=150, deadline=None)
@given(query=st.text(st.characters(exclude_categories=["Cs"]), max_size=40))
def test_no_query_is_an_fts5_error(index, query):
    expression = match_expression(query)
    if expression:
        index.execute("SELECT 1 FROM search WHERE search MATCH ?", (expression,)).fetchall()
