"""Small builders for test values, so each test states only what it is about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from feeds.config import FeedSpec, SiteConfig
from feeds.model import Article

SITE = SiteConfig(
    title="测试站点",
    base_url="http://127.0.0.1:8080/",
    language="zh-CN",
    description="站点说明",
    search=True,
)


def make_article(id: str = "a", **fields: Any) -> Article:
    """An Article with plausible defaults; keyword arguments override any field."""
    published = fields.pop("published", datetime(2022, 3, 15, 14, 4, 32, tzinfo=UTC))
    values: dict[str, Any] = {
        "id": id,
        "source": f"{id}.txt",
        "title": f"标题 {id}",
        "published": published,
        "updated": fields.pop("updated", published),
        "categories": (("金融", "新浪财经", "新浪财经－国內"),),
        "tags": (),
        "author": "新浪财经",
        "image": None,
        "link": None,
        "summary": "摘要。",
        "content": "<p>正文</p>",
        "editor": None,
    }
    values.update(fields)
    return Article(**values)


def make_spec(slug: str = "finance", **fields: Any) -> FeedSpec:
    """A FeedSpec with defaults; keyword arguments override any field."""
    values: dict[str, Any] = {
        "slug": slug,
        "title": "金融",
        "description": "",
        "categories": (("金融",),),
        "exclude": (),
        "limit": 50,
    }
    values.update(fields)
    return FeedSpec(**values)
