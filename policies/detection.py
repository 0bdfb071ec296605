"""Detecting what a policy text says about itself: 文号, 发文机关, dates, 效力级别, and
the 编/章/节/条/款 structure. Pure functions over plain text; no database."""

import re
from dataclasses import dataclass, field
from datetime import date

# --- Chinese numerals -------------------------------------------------------------

_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "Ｏ": 0,
    "O": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "两": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_NUM = "零〇○一二两三四五六七八九十百千壹贰叁肆伍陆柒捌玖拾佰仟"
NUM_CLASS = f"[{CN_NUM}0-9０-９]"


def cn_to_int(text: str) -> int:
    """第一百二十三 → 123; also 一〇五 (digit by digit) and Arabic digits."""
    text = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not text:
        raise ValueError("空的数字")
    if text.isdigit():
        return int(text)
    if not any(ch in _UNITS for ch in text):
        # digit-by-digit form, as in years: 二〇一九
        value = 0
        for ch in text:
            if ch not in _DIGITS:
                raise ValueError(f"不是数字：{text}")
            value = value * 10 + _DIGITS[ch]
        return value
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            raise ValueError(f"不是数字：{text}")
    return total + current


_CN_DIGIT_CHARS = "零一二三四五六七八九"


def int_to_cn(number: int) -> str:
    """123 → 一百二十三; 10 → 十; 105 → 一百零五 (the way articles are numbered)."""
    if number < 0:
        raise ValueError("负数")
    if number < 10:
        return _CN_DIGIT_CHARS[number]
    if number < 20:
        return "十" + (_CN_DIGIT_CHARS[number - 10] if number > 10 else "")
    parts = []
    units = [(1000, "千"), (100, "百"), (10, "十")]
    remainder = number
    zero_pending = False
    started = False
    for value, name in units:
        digit, remainder = divmod(remainder, value)
        if digit:
            if zero_pending:
                parts.append("零")
                zero_pending = False
            parts.append(_CN_DIGIT_CHARS[digit] + name)
            started = True
        elif started:
            zero_pending = True
    if remainder:
        if zero_pending:
            parts.append("零")
        parts.append(_CN_DIGIT_CHARS[remainder])
    return "".join(parts)


# --- dates ---------------------------------------------------------------------------

_YEAR = rf"(?P<y>[0-9０-９]{{4}}|[{CN_NUM}]{{4}})"
_MONTH = r"(?P<m>[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3}|元)"
_DAY = r"(?P<d>[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})"
DATE_RE = re.compile(rf"{_YEAR}\s*年\s*{_MONTH}\s*月\s*{_DAY}\s*日")
NUMERIC_DATE_RE = re.compile(
    r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})[-./](?P<m>[0-9]{1,2})[-./](?P<d>[0-9]{1,2})(?![0-9])"
)


def _date_from_match(match) -> date | None:
    try:
        month_text = match.group("m")
        month = 1 if month_text == "元" else cn_to_int(month_text)
        return date(cn_to_int(match.group("y")), month, cn_to_int(match.group("d")))
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    """The first date in *text*: 二〇一九年三月八日, 2019年3月8日, 2019-03-08, 2019.3.8."""
    for regex in (DATE_RE, NUMERIC_DATE_RE):
        for match in regex.finditer(text):
            found = _date_from_match(match)
            if found:
                return found
    return None


def find_dates(text: str) -> list[tuple[date, int, int]]:
    """Every date in *text* as (date, start, end), in order."""
    found = []
    for regex in (DATE_RE, NUMERIC_DATE_RE):
        for match in regex.finditer(text):
            value = _date_from_match(match)
            if value:
                found.append((value, match.start(), match.end()))
    return sorted(found, key=lambda item: item[1])


# --- 文号 ----------------------------------------------------------------------------

_OPEN = "〔[［(（【﹝"
_CLOSE = "〕]］)）】﹞"
DOC_NUMBER_RE = re.compile(
    rf"(?P<code>[\u4e00-\u9fff]{{1,14}}?)\s*[{re.escape(_OPEN)}]\s*(?P<year>(?:19|20)[0-9]{{2}})\s*"
    rf"[{re.escape(_CLOSE)}]\s*第?\s*(?P<serial>[0-9]{{1,5}})\s*号"
)
# the words that end the sentence before a 文号 and are not part of its issuer code
_NUMBER_PREFIX_NOISE = re.compile(r"^.*(?:印发|根据|依据|按照|见|的|和|与|及|、|《[^》]*》)")


def normalise_doc_number(code: str, year: str, serial: str) -> str:
    return f"{code}〔{year}〕{int(serial)}号"


def find_doc_number(text: str, head_chars: int = 1500) -> str:
    """The document's own 文号, looked for in its head: 元人办发〔2019〕13号.

    Brackets written as [] () 【】 ［］ are normalised to 〔〕, leading zeros dropped.
    """
    head = text[:head_chars]
    for line in head.splitlines():
        match = DOC_NUMBER_RE.search(line.strip())
        if not match:
            continue
        code = _NUMBER_PREFIX_NOISE.sub("", match.group("code"))
        if not code:
            continue
        return normalise_doc_number(code, match.group("year"), match.group("serial"))
    return ""


def normalise_doc_number_text(value: str) -> str:
    """A 文号 typed by a person, in the canonical form (for duplicate checks)."""
    value = (value or "").strip()
    match = DOC_NUMBER_RE.search(value)
    if not match:
        return value
    return normalise_doc_number(match.group("code"), match.group("year"), match.group("serial"))


# --- 发文机关 -------------------------------------------------------------------------

ORG_SUFFIXES = (
    "人民代表大会常务委员会",
    "人民代表大会",
    "常务委员会",
    "人民政府办公室",
    "人民政府办公厅",
    "人民政府",
    "办公室",
    "办公厅",
    "委员会",
    "国务院",
    "财政部",
    "审计署",
    "财政局",
    "审计局",
    "税务局",
    "局",
    "厅",
    "部",
    "署",
    "委",
    "院",
    "中心",
    "支行",
    "分行",
)
ORG_RE = re.compile(
    r"^[\u4e00-\u9fff（）()、]{2,40}(?:" + "|".join(map(re.escape, ORG_SUFFIXES)) + r")$"
)
MEETING_RE = re.compile(
    rf"第[{CN_NUM}]+届(?P<org>(?:全国|[\u4e00-\u9fff]{{1,12}}?)人民代表大会(?:常务委员会)?)"
    rf"第[{CN_NUM}]+次(?:全体)?会议(?:通过|审议通过|修订|修正)"
)
ISSUER_HEADER_RE = re.compile(r"^(?P<org>[\u4e00-\u9fff（）()]{2,40}?)文件$")
TITLE_ISSUER_RE = re.compile(r"^(?P<org>[\u4e00-\u9fff、（）()]{2,40}?)关于")


def _is_org(line: str) -> bool:
    return bool(ORG_RE.match(line)) and "关于" not in line and len(line) <= 40


def find_issuer(text: str, title: str = "") -> str:
    """发文机关: the header "××文件", the sign-off line above the date, the meeting that
    passed a law, or the organisation named before 关于 in the title."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines[:6]:
        match = ISSUER_HEADER_RE.match(line.replace(" ", "").replace("\u3000", ""))
        if match and _is_org(match.group("org")):
            return match.group("org")
    # sign-off (落款): an organisation line directly above a date line, near the end
    tail = lines[-12:]
    for index in range(len(tail) - 1, 0, -1):
        if _is_date_line(tail[index]):
            candidate = tail[index - 1].replace(" ", "").replace("\u3000", "")
            if _is_org(candidate):
                return candidate
    meetings = list(MEETING_RE.finditer(_header_block(text)))
    if meetings:
        # the latest adoption or amendment names the body that issued this version
        return meetings[-1].group("org")
    title_match = TITLE_ISSUER_RE.match(title or "")
    if title_match:
        first = re.split(r"[、和]", title_match.group("org"))[0]
        if _is_org(first):
            return first
    return ""


def _is_date_line(line: str) -> bool:
    stripped = line.strip().strip("（）()")
    match = DATE_RE.fullmatch(stripped) or NUMERIC_DATE_RE.fullmatch(stripped)
    return bool(match)


# --- 施行日期 and 发布日期 ----------------------------------------------------------------

EFFECTIVE_RE = re.compile(r"自\s*(?P<when>[^，。；\n]{0,30}?)\s*起\s*(?:施行|执行|实施|生效)")
ISSUED_RE = re.compile(r"(?P<when>[^，。；\n]{4,20}?日)\s*(?:发布|公布|印发)")


@dataclass
class DateFindings:
    written_on: date | None = None  # 成文日期 (落款)
    issued_on: date | None = None  # 发布日期
    effective_on: date | None = None  # 施行日期
    effective_on_issue: bool = False  # 自发布之日起施行


def detect_dates(text: str) -> DateFindings:
    findings = DateFindings()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines[-12:]):
        if _is_date_line(line):
            findings.written_on = parse_date(line)
            break
    head = "\n".join(lines[:12])
    match = ISSUED_RE.search(head)
    if match:
        findings.issued_on = parse_date(match.group("when"))
    if findings.issued_on is None:
        # laws: the latest of the adoption and amendment dates in the head
        header_dates = [
            value for value, _s, _e in find_dates(_header_block(text)) if value.year >= 1949
        ]
        if header_dates:
            findings.issued_on = max(header_dates)
    if findings.issued_on is None:
        findings.issued_on = findings.written_on
    for match in EFFECTIVE_RE.finditer(text):
        when = match.group("when")
        if re.search(r"(发布|公布|印发|通过)之日", when):
            findings.effective_on_issue = True
            findings.effective_on = findings.issued_on
            break
        parsed = parse_date(when)
        if parsed:
            findings.effective_on = parsed
            break
    return findings


def _header_block(text: str) -> str:
    """The lines before the first division or article (the adoption and amendment notes)."""
    lines = []
    for line in text.splitlines()[:40]:
        stripped = line.strip()
        if DIVISION_RE.match(stripped) or ARTICLE_RE.match(stripped) or stripped == "目录":
            break
        lines.append(stripped)
    return "\n".join(lines)


# --- 效力级别 --------------------------------------------------------------------------

LEVEL_LAW = "law"
LEVEL_ADMIN_REGULATION = "admin_regulation"
LEVEL_LOCAL_REGULATION = "local_regulation"
LEVEL_DEPARTMENT_RULE = "department_rule"
LEVEL_NORMATIVE = "normative"
LEVEL_INTERNAL = "internal"


def detect_effect_level(title: str, issuer: str, text: str = "") -> str:
    """The 效力级别 where the text shows it, else "" (staff choose)."""
    title = title or ""
    issuer = issuer or ""
    national_congress = issuer.startswith("全国人民代表大会") or bool(
        re.search(r"第[{CN}]+届全国人民代表大会".replace("{CN}", CN_NUM), text[:3000])
    )
    if national_congress and (title.endswith("法") or title.startswith("中华人民共和国")):
        return LEVEL_LAW
    if national_congress and ("决定" in title or "规定" in title):
        return LEVEL_LAW
    if issuer == "国务院" and title.endswith("条例"):
        return LEVEL_ADMIN_REGULATION
    if re.search(r"(省|自治区|市)人民代表大会(常务委员会)?$", issuer) and title.endswith("条例"):
        return LEVEL_LOCAL_REGULATION
    if re.search(r"(部|署|总局|委员会|银行)$", issuer) and "人民政府" not in issuer:
        if re.search(r"(办法|规定|细则)$", title) and re.search(r"(令|第[0-9]+号)", text[:600]):
            return LEVEL_DEPARTMENT_RULE
    if re.search(r"(内部|机关)", title) and re.search(r"(制度|规程|办法|规定)$", title):
        return LEVEL_INTERNAL
    if re.search(r"(县|区|市|乡|镇).*(人民政府|办公室|局|委员会)", issuer):
        return LEVEL_NORMATIVE
    return ""


# --- title ---------------------------------------------------------------------------

_TITLE_SKIP = re.compile(r"(文件$|^密级|^签发人|^第?\s*[0-9]+\s*号$|^[-—=*_·\s]+$|^<!--)")


def detect_title(text: str) -> str:
    """The title: the first Markdown H1, else the first substantial line that is not a
    header stamp, 文号 or date (a title broken over two lines is joined)."""
    for line in text.splitlines()[:10]:
        if line.startswith("# "):
            return line[2:].strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()][:15]
    for index, line in enumerate(lines):
        if _TITLE_SKIP.search(line) or DOC_NUMBER_RE.search(line) or _is_date_line(line):
            continue
        if ARTICLE_RE.match(line) or DIVISION_RE.match(line):
            break
        title = line
        # a title wrapped onto the next line: the next line is short and ends a title word
        if index + 1 < len(lines):
            following = lines[index + 1]
            if (
                len(following) <= 30
                and not DIVISION_RE.match(following)
                and not ARTICLE_RE.match(following)
                and not following.endswith(("。", "：", ":"))
                and re.search(r"(通知|办法|规定|条例|意见|决定|细则|规则|制度|方案|法)$", following)
                and not re.search(r"(通知|办法|规定|条例|意见|决定|细则|规则|制度|方案|法)$", title)
            ):
                title += following
        return title.strip("《》 ")
    return ""


# --- structure: 编 / 章 / 节 / 条 / 款 ---------------------------------------------------

DIVISION_RE = re.compile(
    rf"^(?P<label>第(?P<num>{NUM_CLASS}+)(?P<kind>编|分编|章|节))(?:[\s\u3000]+(?P<name>.*))?$"
)
ARTICLE_RE = re.compile(
    rf"^(?P<label>第(?P<num>{NUM_CLASS}+)条(?:之(?P<sub>[{CN_NUM}]+))?)(?P<sep>[\s\u3000:：、]*)(?P<rest>.*)$"
)
DIVISION_LEVEL = {"编": 1, "分编": 2, "章": 3, "节": 4}


@dataclass
class Division:
    kind: str  # 编 / 分编 / 章 / 节
    label: str  # 第二章
    name: str  # 预算管理职权
    level: int

    @property
    def heading(self) -> str:
        return f"{self.label} {self.name}".strip()


@dataclass
class Article:
    label: str  # canonical: 第十二条, 第十二条之一
    number: int
    sub: int  # 之一 → 1
    paragraphs: list[str] = field(default_factory=list)  # 款 (the first keeps its text only)
    book: str = ""  # 编 heading
    chapter: str = ""  # 章 heading
    section: str = ""  # 节 heading

    anchor: str = ""  # the label, made unique within the document (第一条-2)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class Structure:
    preamble: list[str] = field(default_factory=list)
    items: list = field(default_factory=list)  # Division and Article in order
    tail: list[str] = field(default_factory=list)  # sign-off after the last article

    @property
    def articles(self) -> list[Article]:
        return [item for item in self.items if isinstance(item, Article)]

    @property
    def divisions(self) -> list[Division]:
        return [item for item in self.items if isinstance(item, Division)]


def article_label(number: int, sub: int = 0) -> str:
    label = f"第{int_to_cn(number)}条"
    if sub:
        label += f"之{int_to_cn(sub)}"
    return label


def _looks_like_heading(line: str) -> bool:
    return len(line) <= 40 and not line.endswith(("。", "；", ";", "，"))


def parse_structure(text: str) -> Structure:
    """Split *text* into divisions and articles.

    An article line is 第X条 followed by a separator; one glued to its text (第五条为了…) counts
    only when its number is the next expected one, so a paragraph opening with a reference
    (第三十条第一款规定…) stays a paragraph of the article before it.
    """
    structure = Structure()
    current: Article | None = None
    context = {"编": "", "分编": "", "章": "", "节": ""}
    last_number = 0
    for raw in text.splitlines():
        line = raw.strip().replace("\u3000", " ").strip()
        if not line:
            continue
        division = DIVISION_RE.match(line)
        if division and _looks_like_heading(line):
            try:
                cn_to_int(division.group("num"))
            except ValueError:
                division = None
        if division and _looks_like_heading(line):
            kind = division.group("kind")
            item = Division(
                kind=kind,
                label=division.group("label"),
                name=(division.group("name") or "").strip(),
                level=DIVISION_LEVEL[kind],
            )
            context[kind] = item.heading
            # a new chapter resets its sections; a new book resets chapters and sections
            for lower, level in DIVISION_LEVEL.items():
                if level > item.level:
                    context[lower] = ""
            structure.items.append(item)
            current = None
            continue
        match = ARTICLE_RE.match(line)
        if match:
            try:
                number = cn_to_int(match.group("num"))
                sub = cn_to_int(match.group("sub")) if match.group("sub") else 0
            except ValueError:
                match = None
        if match:
            has_separator = bool(match.group("sep")) or not match.group("rest")
            expected = number == last_number + 1 or (sub and number == last_number)
            if has_separator or expected or (current is None and not structure.articles):
                current = Article(
                    label=article_label(number, sub),
                    number=number,
                    sub=sub,
                    paragraphs=[match.group("rest").strip()] if match.group("rest") else [],
                    book=context["编"] or context["分编"],
                    chapter=context["章"],
                    section=context["节"],
                )
                structure.items.append(current)
                last_number = number
                continue
        if current is not None:
            current.paragraphs.append(line)
        elif not structure.items:
            structure.preamble.append(line)
        else:
            structure.preamble.append(line)
    _split_tail(structure)
    seen = {}
    for article in structure.articles:
        seen[article.label] = seen.get(article.label, 0) + 1
        count = seen[article.label]
        article.anchor = article.label if count == 1 else f"{article.label}-{count}"
    return structure


def _split_tail(structure: Structure) -> None:
    """Move a sign-off (机关 + date) off the end of the last article."""
    articles = structure.articles
    if not articles:
        return
    last = articles[-1]
    tail = []
    while last.paragraphs and (
        _is_date_line(last.paragraphs[-1])
        or (tail and _is_org(last.paragraphs[-1].replace(" ", "")))
        or last.paragraphs[-1].startswith(("抄送", "附件："))
    ):
        tail.insert(0, last.paragraphs.pop())
    structure.tail = tail


def count_article_lines(text: str) -> int:
    """How many lines open with 第X条 (the crude count a grep gives)."""
    return sum(1 for line in text.splitlines() if ARTICLE_RE.match(line.strip()))


# --- everything together --------------------------------------------------------------


@dataclass
class Detection:
    title: str = ""
    doc_number: str = ""
    issuer: str = ""
    written_on: date | None = None
    issued_on: date | None = None
    effective_on: date | None = None
    effect_level: str = ""
    structure: Structure = field(default_factory=Structure)

    @property
    def article_count(self) -> int:
        return len(self.structure.articles)


def detect(text: str, fallback_title: str = "") -> Detection:
    title = detect_title(text) or fallback_title
    issuer = find_issuer(text, title)
    dates = detect_dates(text)
    return Detection(
        title=title[:255],
        doc_number=find_doc_number(text),
        issuer=issuer,
        written_on=dates.written_on,
        issued_on=dates.issued_on,
        effective_on=dates.effective_on,
        effect_level=detect_effect_level(title, issuer, text),
        structure=parse_structure(body_without_head(text, title)),
    )


def body_without_head(text: str, title: str) -> str:
    """The text with a Markdown H1 title line removed (the title is shown apart)."""
    lines = text.splitlines()
    for index, line in enumerate(lines[:10]):
        if line.startswith("# ") and line[2:].strip() == title:
            return "\n".join(lines[:index] + lines[index + 1 :])
    return text
