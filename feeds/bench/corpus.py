"""Synthetic article files in the shape of the real Sina Finance sample.

They feed the shipped examples (`examples/articles`) and the benchmarks. The only source
of variety is one `random.Random(seed)`, so a (count, seed, lengths) triple always gives
the same bytes.

Two shapes of article: `sample`, a few paragraphs each, as short as the one real sample,
written from short generic phrase lists (the shipped examples and the test fixtures); and
`real`, for the benchmarks, in the spread of lengths of a real scrape, one article in
twenty a long one (an analysis, a table of figures, a gallery), with most sentences drawn
from a vocabulary as varied as real text's (see _Vocabulary). Everything else (front
matter, images, the cruft after the text) is drawn alike in both.
"""

from __future__ import annotations

import argparse
import random
import sys
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Generic, Literal, TypeVar, get_args

from feeds.text import hex_digest

_T = TypeVar("_T")

Lengths = Literal["sample", "real"]

# Raised whenever what a (count, seed, lengths) triple gives changes: the benchmarks keep
# corpora between runs under a name that holds it.
VERSION = 2

_START = datetime(2022, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = 181 * 24 * 3600  # January to June 2022
_SHANGHAI = timezone(timedelta(hours=8))  # fixed offset: no tz database needed to write files
_QR_IMAGE = "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"

_FINANCE = ("金融", "新浪财经")
# 国內 (not 国内) is how the real feed spells it.
_FINANCE_LEAVES = (
    "新浪财经－国內",
    "新浪财经－国內",
    "新浪财经－国际",
    "新浪财经－股市",
    "新浪财经－宏观",
)
_TECH = ("科技", "新浪科技", "互联网")
_FLAT_CATEGORIES = ("评论", "观点", "专栏")
_TAGS = ("A股", "券商", "货币政策", "GDP", "CPI", "新能源", "银行", "基金", "房地产", "消费")
_AUTHORS = (
    "新浪财经",
    "中国证券报",
    "经济观察报",
    "第一财经",
    "证券时报",
    "上海证券报",
    "21世纪经济报道",
)
_EDITORS = ("王蒙", "张倩", "李桐", "刘明亮", "陈悦", "赵思远", "杨琳", "周一")
_LINK_SECTIONS = ("roll", "china/gncj", "stock/marketresearch", "world", "money/bank")

_ORGS = ("国家统计局", "中国人民银行", "证监会", "银保监会", "财政部", "国家发展改革委", "商务部")
_INDICATORS = ("CPI", "PPI", "社会消费品零售总额", "规模以上工业增加值", "M2", "出口额")
_INDEXES = ("上证指数", "深证成指", "创业板指", "沪深300")
_REGIONS = ("上海", "广东", "浙江", "江苏", "北京", "四川", "山东")
_GOALS = ("稳住经济大盘", "助企纾困", "促进消费恢复", "稳定外贸外资", "支持小微企业")
_POLICIES = ("稳增长", "降准", "专精特新", "双碳", "跨周期调节")
_SECTORS = ("新能源车", "半导体", "光伏", "银行", "白酒", "券商", "医药")
_TECH_SUBJECTS = ("多家互联网平台", "头部科技企业", "国内云服务商", "电商平台", "手机厂商")
_TECH_ACTIONS = ("加码AI研发投入", "发布一季度财报", "下调部分服务价格", "推出适老化改造方案")
_STOCKS = ("贵州茅台", "宁德时代", "招商银行", "比亚迪", "中国平安", "隆基绿能", "东方财富")

_SUBJECTS = _ORGS + ("多家券商", "业内人士", "分析人士", "市场机构", "有关负责人", "受访专家")
_VERBS = ("表示", "指出", "认为", "介绍", "预计", "强调")
_CLAUSES = (
    "下一阶段将继续实施稳健的货币政策",
    "保持流动性合理充裕",
    "加大对实体经济的支持力度",
    "A股市场整体估值处于历史较低水平",
    "中长期资金入市步伐有望加快",
    "稳增长政策效果将逐步显现",
    "消费和投资需求仍有较大恢复空间",
    "出口增速保持较强韧性",
    "企业综合融资成本稳中有降",
    "重点领域风险总体可控",
    "数字经济为高质量发展提供了新动能",
    "市场主体信心逐步恢复",
    "上游原材料价格波动对中下游企业形成一定压力",
    "政策性金融工具将发挥更大作用",
    "相关部门将加强统筹协调",
)

# Everything after the last paragraph of a scraped page, as in the sample, byte for byte;
# only the editor's name varies. The braces are entity-escaped in the source pages.
_CRUFT_TAIL = (
    "<!-- news_keyword_pub,stock, -->\n\n\n\n\n\n\n\n"
    "<!-- 正文下iframe -->\n\n\n<!-- 正文下iframe -->\n\n"
    "<!-- 总声明-->\n\n\n\n\n\n\n\n\n\n\n\n<!-- 总声明-->\n\n"
    "<!-- 文末二维码 start -->\n\n\n"
    "            <!-- 文末二维码 start -->\n"
    "            <style>\n"
    "            .appendQr_wrap&#123;border:1px solid #E6E6E6;padding:8px;&#125;\n"
    "            .appendQr_normal&#123;float:left;&#125;\n"
    "            .appendQr_normal img&#123;width:74px;&#125;\n"
    "            .appendQr_normal_txt&#123;float:left;font-size:20px;line-height:74px;"
    "padding-left:20px;color:#333;&#125;\n"
    "            </style>\n"
    '            <div class="clearfix appendQr_wrap">\n'
    f'                <div class="appendQr_normal"><img src="{_QR_IMAGE}"'
    ' referrerpolicy="no-referrer"></div>\n'
    '                <div class="appendQr_normal_txt">海量资讯、精准解读，尽在新浪财经APP</div>\n'
    "            </div>\n"
    "            <!-- 文末二维码 start -->\n\n"
    "            <!-- 文末二维码 start -->\n\n"
    "<!-- 编辑姓名及工作代码 -->\n\n"
    '<p class="article-editor">责任编辑：{editor} </p>\n'
    "<!-- 编辑姓名及工作代码-->\n\n  \n</div>\n            "
)

# File sizes of typical (not long) articles with `real` lengths, as (quantile, bytes), set so
# that the whole corpus, long ones and files without the cruft included, spreads like a
# scrape of ten thousand Sina Finance articles: p10 3.2 KB, median 5.7 KB, p90 8.1 KB.
_TYPICAL_BYTES = ((0.0, 2100), (0.1, 3100), (0.5, 5500), (0.95, 8200), (1.0, 11000))
# Long articles: file sizes drawn evenly from this range (bytes). Files come out between
# 20 and 60 KiB: without the cruft a file is 1.1 KB smaller, and the last block of text
# overshoots by less than 2 KB.
_LONG_BYTES = (22 * 1024, 58 * 1024)


def _below(rng: random.Random, n: int) -> int:
    # Only random() is promised to repeat across Python versions; choice(), randrange()
    # and shuffle() are not, and the shipped examples must not drift with the interpreter.
    return min(int(rng.random() * n), n - 1)


def _pick(rng: random.Random, items: Sequence[_T]) -> _T:
    return items[_below(rng, len(items))]


def _shuffle(rng: random.Random, items: list[_T]) -> None:
    for i in range(len(items) - 1, 0, -1):
        j = _below(rng, i + 1)
        items[i], items[j] = items[j], items[i]


class _Deck(Generic[_T]):
    """Draws from a shuffled pack, reshuffled when empty, so every block of draws holds
    each variant in its stated proportion: even 40 files show every rare case."""

    def __init__(self, rng: random.Random, pack: Sequence[tuple[_T, int]]) -> None:
        self._rng = rng
        self._pack = [value for value, copies in pack for _ in range(copies)]
        self._left: list[_T] = []

    def draw(self) -> _T:
        if not self._left:
            self._left = list(self._pack)
            _shuffle(self._rng, self._left)
        return self._left.pop()


@dataclass
class _Decks:
    categories: _Deck[str]
    date: _Deck[str]
    author: _Deck[bool]
    link: _Deck[bool]
    id: _Deck[bool]
    tags: _Deck[bool]
    headimg: _Deck[str]
    image: _Deck[str]
    cruft: _Deck[bool]
    original_title: _Deck[bool]
    quoted_title: _Deck[bool]
    long: _Deck[str]  # drawn only with `real` lengths

    @classmethod
    def new(cls, rng: random.Random) -> _Decks:
        def yes(n: int, of: int) -> _Deck[bool]:
            return _Deck(rng, [(True, n), (False, of - n)])

        return cls(
            categories=_Deck(rng, [("finance", 13), ("tech", 3), ("multi", 2), ("flat", 2)]),
            date=_Deck(rng, [("rfc822", 14), ("iso", 3), ("iso_zone", 3)]),
            author=yes(17, 20),
            link=yes(1, 3),
            id=yes(1, 10),
            tags=yes(1, 3),
            headimg=_Deck(rng, [("qr", 14), ("own", 4), ("none", 2)]),
            image=_Deck(rng, [("none", 11), ("referrer", 5), ("plain", 3), ("protocol", 1)]),
            cruft=yes(17, 20),
            original_title=yes(1, 3),
            quoted_title=yes(1, 19),
            long=_Deck(rng, [("", 57), ("analysis", 1), ("table", 1), ("gallery", 1)]),
        )


def _hex(rng: random.Random, digits: int) -> str:
    return f"{_below(rng, 16**digits):0{digits}x}"


def _percent(rng: random.Random) -> str:
    return f"{0.1 + rng.random() * 9.8:.1f}%"


def _market(rng: random.Random) -> str:
    close, move = _pick(rng, (("集体收涨", "涨"), ("集体收跌", "跌"), ("涨跌不一", "涨")))
    return f"A股三大指数{close} {_pick(rng, _INDEXES)}{move}{0.1 + rng.random() * 2.9:.2f}%"


def _title(rng: random.Random, kind: str, quoted: bool) -> str:
    if kind == "tech":
        return f"{_pick(rng, _TECH_SUBJECTS)}{_pick(rng, _TECH_ACTIONS)}"
    if quoted:
        # ASCII quotes exercise the YAML escape ('' inside a single-quoted scalar).
        return f"{_pick(rng, _SUBJECTS)}：'{_pick(rng, _POLICIES)}'政策有望继续加码"
    month = 1 + _below(rng, 6)
    templates = (
        f"{_pick(rng, _ORGS)}：{month}月{_pick(rng, _INDICATORS)}同比增长{_percent(rng)}",
        _market(rng),
        f"{_pick(rng, _REGIONS)}出台{3 + _below(rng, 40)}条措施{_pick(rng, _GOALS)}",
        f"{_pick(rng, _ORGS)}升级_{_pick(rng, _POLICIES)}专项行动_，资金规模增加一倍",
        f"一季度GDP同比增长{_percent(rng)} {_pick(rng, _SECTORS)}板块表现活跃",
        f"{10 + _below(rng, 990)}家上市公司披露一季报 {_pick(rng, _SECTORS)}行业净利润增长",
    )
    return _pick(rng, templates)


def _sentence(rng: random.Random) -> str:
    if rng.random() < 0.3:
        figure = f"{1 + _below(rng, 6)}月{_pick(rng, _INDICATORS)}同比增长{_percent(rng)}"
        return f"数据显示，{figure}，{_pick(rng, _CLAUSES)}。"
    said = f"{_pick(rng, _SUBJECTS)}{_pick(rng, _VERBS)}"
    return f"{said}，{_pick(rng, _CLAUSES)}，{_pick(rng, _CLAUSES)}。"


def _paragraph(text: str) -> str:
    return f"<p>\u3000\u3000{text}</p>"


class _Vocabulary:
    """Words as they come in real text, for the `real` lengths: a few very often and most
    rarely (Zipf's law), made of characters of which a few are frequent and most are not.
    An article then holds about as many distinct pairs of characters as the sample (two
    in three), and a corpus's vocabulary keeps growing with it, as a real archive's does;
    the phrase lists alone would repeat a few hundred pairs, which flatters a search
    index's size and cost."""

    def __init__(self, rng: random.Random) -> None:
        phrases = "".join(_CLAUSES + _SUBJECTS + _GOALS + _POLICIES + _SECTORS + _STOCKS)
        frequent = list(dict.fromkeys(c for c in phrases if "\u4e00" <= c <= "\u9fff"))
        known = set(frequent)
        rare = [chr(code) for code in range(0x4E00, 0xA000) if chr(code) not in known]
        _shuffle(rng, rare)
        characters = frequent + rare[:_CHARACTERS]
        by_character = _cumulative(len(characters), _CHARACTER_EXPONENT)
        self._words = [
            "".join(_weighted(rng, characters, by_character) for _ in range(_word_length(rng)))
            for _ in range(_WORDS)
        ]
        self._by_word = _cumulative(_WORDS, _WORD_EXPONENT)

    def sentence(self, rng: random.Random) -> str:
        """A clause or two of words, ended like the sample's."""
        words = (_weighted(rng, self._words, self._by_word) for _ in range(4 + _below(rng, 11)))
        return "".join(words) + _pick(rng, "，，，。")


@cache
def _vocabulary_of(seed: int) -> tuple[_Vocabulary, tuple[object, ...]]:
    """The vocabulary of the corpus of `seed`, drawn first from its generator, and the
    state that leaves the generator in: made once a process, as drawing it costs more
    than writing a small corpus."""
    rng = random.Random(seed)
    return _Vocabulary(rng), rng.getstate()


_CHARACTERS = 6000  # beyond those of the phrase lists: about what news text uses
_CHARACTER_EXPONENT = 1.0
_WORDS = 50_000
_WORD_EXPONENT = 1.1


def _cumulative(count: int, exponent: float) -> list[float]:
    """Cumulative weights of `count` ranks under Zipf's law."""
    return list(accumulate(1 / rank**exponent for rank in range(1, count + 1)))


def _weighted(rng: random.Random, items: Sequence[_T], cumulative: list[float]) -> _T:
    return items[bisect(cumulative, rng.random() * cumulative[-1])]


def _word_length(rng: random.Random) -> int:
    """Most Chinese words are two characters long."""
    draw = rng.random()
    return 1 if draw < 0.1 else 2 if draw < 0.75 else 3 if draw < 0.9 else 4


def _sentences(rng: random.Random, most: int, words: _Vocabulary | None) -> str:
    """Up to `most` sentences: from the phrase lists alone, or with `words` most of them
    drawn from a vocabulary."""
    count = 1 + _below(rng, most)
    if words is None:
        return "".join(_sentence(rng) for _ in range(count))
    return "".join(
        _sentence(rng) if rng.random() < _PHRASED else words.sentence(rng) for _ in range(count)
    )


_PHRASED = 0.2  # of the sentences with a vocabulary, those from the phrase lists


def _body_image(rng: random.Random, kind: str, day: str, caption: str = "") -> str:
    host = "//n.sinaimg.cn" if kind == "protocol" else "https://n.sinaimg.cn"
    src = f"{host}/finance/crawl/{100 + _below(rng, 900)}/w550h{300 + _below(rng, 200)}/{day}/"
    src += f"{_hex(rng, 4)}-{_hex(rng, 7)}.jpg"
    policy = ' referrerpolicy="no-referrer"' if kind == "referrer" else ""
    return (
        f'<div class="img_wrapper"><img src="{src}" alt="图片"{policy}>'
        f'<span class="img_descr">{caption}</span></div>'
    )


class _Blocks:
    """The body's blocks of text, how many more bytes they should take up, and the words
    to write them with."""

    def __init__(self, blocks: list[str], budget: int, words: _Vocabulary) -> None:
        self.items = blocks
        self.words = words
        self.left = budget - sum(len(block.encode()) + 1 for block in blocks)

    def add(self, block: str) -> None:
        self.items.append(block)
        self.left -= len(block.encode()) + 1  # and the line end after it


def _numeral(n: int) -> str:
    """1 to 99 in Chinese numerals, as section headings count: 一, 十, 十二, 二十一."""
    tens, ones = divmod(n, 10)
    digits = "一二三四五六七八九"
    return (
        (digits[tens - 1] if tens > 1 else "")
        + ("十" if tens else "")
        + (digits[ones - 1] if ones else "")
    )


def _analysis(rng: random.Random, blocks: _Blocks) -> None:
    """A long analysis: numbered sections of several paragraphs each."""
    section = 0
    while blocks.left > 0:
        if section == 0 or rng.random() < 0.2:
            section += 1
            heading = f"{_pick(rng, _SECTORS)}板块{_pick(rng, _GOALS)}"
            blocks.add(f"<p><strong>{_numeral(section)}、{heading}</strong></p>")
        blocks.add(_paragraph(_sentences(rng, 5, blocks.words)))


def _table_row(rng: random.Random) -> str:
    cells = (
        f'<td style="text-align:center;">{_below(rng, 10**6):06d}</td>',
        f"<td>{_pick(rng, _STOCKS)}</td>",
        f"<td>{1 + rng.random() * 1999:.2f}</td>",
        f"<td>{rng.random() * 20 - 10:+.2f}%</td>",
        f"<td>{rng.random() * 90:.1f}亿</td>",
    )
    return "<tr>" + "".join(cells) + "</tr>"


def _tables(rng: random.Random, blocks: _Blocks) -> None:
    """Tables of market figures, each after a paragraph that introduces it."""
    head = "<tr><th>代码</th><th>名称</th><th>收盘价</th><th>涨跌幅</th><th>成交额</th></tr>"
    while blocks.left > 0:
        blocks.add(_paragraph(_sentences(rng, 3, blocks.words)))
        rows = [head]
        room = blocks.left
        for _ in range(8 + _below(rng, 33)):
            if room <= 0 and len(rows) > 3:  # a table of a few rows, even at the end
                break
            rows.append(_table_row(rng))
            room -= len(rows[-1].encode()) + 1
        blocks.add(
            '<table border="1" cellpadding="0" cellspacing="0" style="width:100%;">'
            "<tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
        )


def _gallery(rng: random.Random, blocks: _Blocks, day: str) -> None:
    """An image gallery: captioned pictures, some with a short paragraph after them."""
    while blocks.left > 0:
        caption = f"图为{_pick(rng, _REGIONS)}一家{_pick(rng, _SECTORS)}企业的生产车间"
        kind = _pick(rng, ("referrer", "plain", "protocol"))
        blocks.add(_body_image(rng, kind, day, caption))
        if rng.random() < 0.5:
            blocks.add(_paragraph(_sentences(rng, 2, blocks.words)))


def _text(rng: random.Random, blocks: _Blocks, long: str, day: str) -> None:
    """Fill `blocks` up to their budget, in the way of one kind of article."""
    if long == "analysis":
        _analysis(rng, blocks)
    elif long == "table":
        _tables(rng, blocks)
    elif long == "gallery":
        _gallery(rng, blocks, day)
    while blocks.left > 0 or len(blocks.items) < 3:
        blocks.add(_paragraph(_sentences(rng, 4, blocks.words)))


def _file_bytes(rng: random.Random, long: str) -> int:
    """How large an article file with `real` lengths should be."""
    if long:
        low, high = _LONG_BYTES
        return low + int(rng.random() * (high - low))
    quantile = rng.random()
    for (q0, b0), (q1, b1) in zip(_TYPICAL_BYTES, _TYPICAL_BYTES[1:], strict=False):
        if quantile <= q1:
            return b0 + int((quantile - q0) / (q1 - q0) * (b1 - b0))
    return _TYPICAL_BYTES[-1][1]


_BODY_OPENING = "\n<div>   \n"


def _body(
    rng: random.Random, decks: _Decks, kind: str, day: str, fit: tuple[int, _Vocabulary] | None
) -> str:
    """The body after the front matter. `fit`: with `real` lengths, the bytes of the file
    outside the body's text (front matter, cruft), which its size includes, and the words
    to write with; with the sample's, None."""
    blocks: list[str] = []
    if decks.original_title.draw():
        blocks.append(_paragraph(f"原标题：{_title(rng, kind, quoted=False)}"))
    if fit is None:
        for _ in range(3 + _below(rng, 6)):
            blocks.append(_paragraph(_sentences(rng, 3, None)))
    else:
        long = decks.long.draw()
        around, words = fit
        _text(rng, _Blocks(blocks, _file_bytes(rng, long) - around, words), long, day)
    image = decks.image.draw()
    if image != "none":
        blocks.insert(1 + _below(rng, len(blocks) - 1), _body_image(rng, image, day))
    editor = _pick(rng, _EDITORS)
    if decks.cruft.draw():
        return _BODY_OPENING + "\n".join(blocks) + _CRUFT_TAIL.replace("{editor}", editor)
    if rng.random() < 0.5:
        blocks.append(f'<p class="article-editor">责任编辑：{editor} </p>')
    return "\n<div>\n" + "\n".join(blocks) + "\n</div>\n"


def _categories(rng: random.Random, kind: str) -> str:
    finance = (*_FINANCE, _pick(rng, _FINANCE_LEAVES))
    if kind == "flat":
        return f"categories: {_pick(rng, _FLAT_CATEGORIES)}"
    if kind == "multi":
        second = _TECH if rng.random() < 0.5 else (*_FINANCE, "新浪财经－宏观")
        if second == finance:
            second = _TECH
        return "categories:" + "".join(f"\n - [{', '.join(p)}]" for p in (finance, second))
    path = _TECH if kind == "tech" else finance
    # The trailing space after the key is in the real files too.
    return "categories: " + "".join(f"\n - {name}" for name in path)


def _date(instant: datetime, kind: str) -> str:
    local = instant.astimezone(_SHANGHAI)
    if kind == "iso":
        # Naive: readers take it in source.timezone, Asia/Shanghai by default.
        return local.strftime("%Y-%m-%d %H:%M:%S")
    if kind == "iso_zone":
        return local.isoformat()
    return format_datetime(instant, usegmt=True)


def _article(
    rng: random.Random, decks: _Decks, digest: str, instant: datetime, words: _Vocabulary | None
) -> str:
    """An article file; `words` for the `real` lengths."""
    kind = decks.categories.draw()
    title = _title(rng, "tech" if kind == "tech" else "finance", decks.quoted_title.draw())
    day = instant.astimezone(_SHANGHAI).strftime("%Y%m%d")
    lines = ["", "---", "title: '" + title.replace("'", "''") + "'", _categories(rng, kind)]
    if decks.tags.draw():
        tags = sorted({_pick(rng, _TAGS) for _ in range(1 + _below(rng, 3))})
        lines.append("tags:\n" + "\n".join(f" - {tag}" for tag in tags))
    headimg = decks.headimg.draw()
    image = _QR_IMAGE
    if headimg == "own":
        image = f"https://n.sinaimg.cn/finance/{_hex(rng, 8)}/{day}/{_below(rng, 10**9)}.png"
    if headimg != "none":
        lines.append(f"headimg: '{image}'")
    if decks.author.draw():
        lines.append(f"author: {_pick(rng, _AUTHORS)}")
    lines += ["comments: false", f"date: {_date(instant, decks.date.draw())}"]
    if headimg != "none":
        lines.append(f"thumbnail: '{image}'")
    if decks.link.draw():
        doc = "".join(_pick(rng, "abcdefghijklmnopqrstuvwxyz") for _ in range(7))
        path = f"{_pick(rng, _LINK_SECTIONS)}/{instant.astimezone(_SHANGHAI):%Y-%m-%d}"
        lines.append(
            f"link: 'https://finance.sina.com.cn/{path}/doc-i{doc}{_below(rng, 10**7):07d}.shtml'"
        )
    if decks.id.draw():
        lines.append(f"id: sina-{digest}")
    lines.append("---")
    front = "\n".join(lines) + "\n"
    fit = None
    if words is not None:
        # The text is fitted to the file size as if the cruft were there: without it, the
        # file is that much smaller, as a real page scraped without it would be.
        fit = len(front.encode()) + len(_BODY_OPENING) + len(_CRUFT_TAIL.encode()), words
    return front + _body(rng, decks, kind, day, fit)


def _digest(seed: int, index: int) -> str:
    return hex_digest(f"{seed}:{index}", size=8)


def iter_articles(
    count: int, *, seed: int = 0, lengths: Lengths = "sample"
) -> Iterator[tuple[str, str]]:
    """Yield (file name, file text) for `count` articles, one at a time. The `sample`
    lengths (short: quick test fixtures) unless `real` ones are asked for."""
    if count < 0:
        raise ValueError(f"count must be zero or more, not {count}")
    rng = random.Random(seed)
    decks = _Decks.new(rng)  # draws nothing yet
    words = None
    if lengths == "real":
        words, state = _vocabulary_of(seed)
        rng.setstate(state)
    # Each article owns one time slot and a jitter inside it, so dates never collide;
    # shuffling the slots keeps file order from matching date order.
    step = max(1, _SPAN_SECONDS // max(count, 1))
    slots = list(range(count))
    _shuffle(rng, slots)
    width = max(3, len(str(count - 1)))
    for index, slot in enumerate(slots):
        instant = _START + timedelta(seconds=slot * step + _below(rng, step))
        digest = _digest(seed, index)
        yield f"{index:0{width}d}_{digest}.txt", _article(rng, decks, digest, instant, words)


def corpus_name(count: int, lengths: Lengths) -> str:
    """The name of the directory a benchmark keeps a corpus in between runs."""
    return f"corpus-v{VERSION}-{lengths}-{count}"


def generate(directory: Path, count: int, *, seed: int = 0, lengths: Lengths = "sample") -> int:
    """Write `count` article files into `directory` (created if needed) and return `count`."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in iter_articles(count, seed=seed, lengths=lengths):
        # Bytes, not text mode: the files keep LF line ends on every platform.
        (directory / name).write_bytes(text.encode("utf-8"))
    return count


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{number} is negative: give 0 or more")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write synthetic articles into a directory and print a summary."""
    parser = argparse.ArgumentParser(
        prog="python -m feeds.bench.corpus",
        description="Write deterministic synthetic article files shaped like the Sina sample.",
    )
    parser.add_argument("directory", type=Path, help="where to write the files (created)")
    parser.add_argument("--count", type=_non_negative, default=40, help="how many (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same bytes (default 0)")
    parser.add_argument(
        "--lengths",
        choices=get_args(Lengths),
        default="real",
        help="article lengths: real (the default: the spread of a real scrape, one in twenty "
        "long), or sample (a few paragraphs, as short as the one sample: examples/articles)",
    )
    args = parser.parse_args(argv)
    directory: Path = args.directory
    try:
        written = generate(directory, args.count, seed=args.seed, lengths=args.lengths)
    except OSError as error:
        parser.exit(
            1, f"{error.filename or directory}: {error.strerror}; choose a writable directory\n"
        )
    print(
        f"wrote {written} article files to {directory} (seed {args.seed}, {args.lengths} lengths)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
