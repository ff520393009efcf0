"""RFC 9110 §13.2.2 precedence, case by case."""

import pytest

from feeds.web.conditional import evaluate

TAG = "abc123"
T = 1_650_000_000  # Fri, 15 Apr 2022 05:20:00 GMT
AT_T = "Fri, 15 Apr 2022 05:20:00 GMT"
BEFORE_T = "Fri, 15 Apr 2022 05:19:59 GMT"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"if_none_match": '"abc123"'}, 304),
        ({"if_none_match": 'W/"abc123"'}, 304),  # weak comparison
        ({"if_none_match": '"other", "abc123"'}, 304),
        ({"if_none_match": "*"}, 304),
        ({"if_none_match": '"other"'}, None),
        ({"if_modified_since": AT_T}, 304),
        ({"if_modified_since": BEFORE_T}, None),
        ({"if_modified_since": "not a date"}, None),
        ({"if_modified_since": "Friday, 15-Apr-22 05:20:00 GMT"}, 304),  # RFC 850 form
        # If-None-Match wins over If-Modified-Since, both ways.
        ({"if_none_match": '"other"', "if_modified_since": AT_T}, None),
        ({"if_none_match": '"abc123"', "if_modified_since": BEFORE_T}, 304),
        ({"if_match": '"abc123"'}, None),
        ({"if_match": '"other"'}, 412),
        ({"if_match": 'W/"abc123"'}, 412),  # If-Match uses strong comparison
        ({"if_match": "*"}, None),
        ({"if_unmodified_since": BEFORE_T}, 412),
        ({"if_unmodified_since": AT_T}, None),
        ({"if_match": '"abc123"', "if_unmodified_since": BEFORE_T}, None),  # If-Match wins
        ({"if_match": '"other"', "if_none_match": '"abc123"'}, 412),  # step 1 before step 3
    ],
)
def test_get(headers, expected):
    assert evaluate("GET", TAG, T, **headers) == expected


def test_head_behaves_like_get():
    assert evaluate("HEAD", TAG, T, if_none_match='"abc123"') == 304
    assert evaluate("HEAD", TAG, T, if_modified_since=AT_T) == 304


def test_unsafe_methods_get_412_and_ignore_if_modified_since():
    assert evaluate("POST", TAG, T, if_none_match='"abc123"') == 412
    assert evaluate("POST", TAG, T, if_modified_since=AT_T) is None
