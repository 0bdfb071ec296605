"""A county's working subset of the 政府收支分类科目 and the service that stores it per year.

The full classification is reissued every year by the Ministry of Finance; staff load or
correct it in the admin (收支科目). This subset is what the demo county and the tests use.
"""

import re
from dataclasses import dataclass, field

from django.db import transaction

from .choices import LEVEL_LENGTHS, ClassificationKind
from .models import Subject, level_of, parent_code

# 款 of administrative kind get the usual 项 below them.
_ADMIN_ITEMS = [("01", "行政运行"), ("02", "一般行政管理事务"), ("03", "机关服务")]

_FUNCTION = {
    "201": (
        "一般公共服务支出",
        {
            "01": (
                "人大事务",
                [
                    ("01", "行政运行"),
                    ("02", "一般行政管理事务"),
                    ("04", "人大会议"),
                    ("06", "人大监督"),
                    ("08", "代表工作"),
                ],
            ),
            "02": ("政协事务", [("01", "行政运行"), ("04", "政协会议")]),
            "03": ("政府办公厅（室）及相关机构事务", [*_ADMIN_ITEMS, ("50", "事业运行")]),
            "04": ("发展与改革事务", _ADMIN_ITEMS[:2]),
            "05": ("统计信息事务", [("01", "行政运行"), ("07", "专项普查活动")]),
            "06": ("财政事务", [*_ADMIN_ITEMS[:2], ("07", "信息化建设"), ("50", "事业运行")]),
            "07": ("税收事务", [("01", "行政运行")]),
            "08": ("审计事务", [("01", "行政运行"), ("04", "审计业务")]),
            "11": ("纪检监察事务", [("01", "行政运行"), ("02", "一般行政管理事务")]),
            "13": ("商贸事务", [("01", "行政运行"), ("08", "招商引资")]),
            "26": ("档案事务", [("01", "行政运行"), ("04", "档案馆")]),
            "29": ("群众团体事务", [("01", "行政运行")]),
            "31": ("党委办公厅（室）及相关机构事务", [*_ADMIN_ITEMS[:2]]),
            "32": ("组织事务", [("01", "行政运行"), ("02", "一般行政管理事务")]),
            "33": ("宣传事务", [("01", "行政运行")]),
            "34": ("统战事务", [("01", "行政运行")]),
        },
    ),
    "204": (
        "公共安全支出",
        {
            "02": ("公安", [*_ADMIN_ITEMS, ("99", "其他公安支出")]),
            "04": ("检察", [("01", "行政运行")]),
            "05": ("法院", [("01", "行政运行")]),
            "06": ("司法", [("01", "行政运行"), ("04", "基层司法业务")]),
        },
    ),
    "205": (
        "教育支出",
        {
            "01": ("教育管理事务", _ADMIN_ITEMS[:2]),
            "02": (
                "普通教育",
                [("01", "学前教育"), ("02", "小学教育"), ("03", "初中教育"), ("04", "高中教育")],
            ),
            "03": ("职业教育", [("02", "中等职业教育")]),
            "08": ("进修及培训", [("03", "培训支出")]),
            "09": ("教育费附加安排的支出", [("01", "农村中小学校舍建设")]),
        },
    ),
    "206": (
        "科学技术支出",
        {
            "01": ("科学技术管理事务", [("01", "行政运行")]),
            "07": ("科学技术普及", [("01", "机构运行"), ("02", "科普活动")]),
        },
    ),
    "207": (
        "文化旅游体育与传媒支出",
        {
            "01": ("文化和旅游", [("01", "行政运行"), ("04", "图书馆"), ("09", "群众文化")]),
            "03": ("体育", [("07", "体育场馆")]),
            "08": ("广播电视", [("01", "行政运行")]),
        },
    ),
    "208": (
        "社会保障和就业支出",
        {
            "01": ("人力资源和社会保障管理事务", [("01", "行政运行"), ("09", "社会保险经办机构")]),
            "02": ("民政管理事务", [("01", "行政运行"), ("08", "基层政权建设和社区治理")]),
            "05": (
                "行政事业单位养老支出",
                [
                    ("05", "机关事业单位基本养老保险缴费支出"),
                    ("06", "机关事业单位职业年金缴费支出"),
                ],
            ),
            "07": ("就业补助", [("04", "社会保险补贴"), ("05", "公益性岗位补贴")]),
            "08": ("抚恤", [("01", "死亡抚恤"), ("02", "伤残抚恤")]),
            "10": ("社会福利", [("01", "儿童福利"), ("02", "老年福利")]),
            "19": (
                "最低生活保障",
                [("01", "城市最低生活保障金支出"), ("02", "农村最低生活保障金支出")],
            ),
            "20": ("临时救助", [("01", "临时救助支出")]),
            "28": ("退役军人管理事务", [("01", "行政运行")]),
        },
    ),
    "210": (
        "卫生健康支出",
        {
            "01": ("卫生健康管理事务", [("01", "行政运行")]),
            "02": ("公立医院", [("01", "综合医院"), ("02", "中医（民族）医院")]),
            "03": ("基层医疗卫生机构", [("02", "乡镇卫生院")]),
            "04": (
                "公共卫生",
                [
                    ("01", "疾病预防控制机构"),
                    ("08", "基本公共卫生服务"),
                    ("09", "重大公共卫生服务"),
                ],
            ),
            "11": ("行政事业单位医疗", [("01", "行政单位医疗"), ("02", "事业单位医疗")]),
            "12": (
                "财政对基本医疗保险基金的补助",
                [("02", "财政对城乡居民基本医疗保险基金的补助")],
            ),
        },
    ),
    "211": (
        "节能环保支出",
        {
            "01": ("环境保护管理事务", [("01", "行政运行")]),
            "03": ("污染防治", [("01", "大气"), ("02", "水体")]),
            "04": ("自然生态保护", [("01", "生态保护")]),
        },
    ),
    "212": (
        "城乡社区支出",
        {
            "01": ("城乡社区管理事务", [("01", "行政运行"), ("04", "城管执法")]),
            "03": ("城乡社区公共设施", [("03", "小城镇基础设施建设")]),
            "05": ("城乡社区环境卫生", [("01", "城乡社区环境卫生")]),
            "08": (
                "国有土地使用权出让收入安排的支出",
                [("01", "征地和拆迁补偿支出"), ("02", "土地开发支出"), ("03", "城市建设支出")],
            ),
        },
    ),
    "213": (
        "农林水支出",
        {
            "01": (
                "农业农村",
                [
                    ("01", "行政运行"),
                    ("04", "事业运行"),
                    ("08", "病虫害控制"),
                    ("99", "其他农业农村支出"),
                ],
            ),
            "02": ("林业和草原", [("01", "行政运行"), ("34", "林业草原防灾减灾")]),
            "03": (
                "水利",
                [("01", "行政运行"), ("06", "水利工程运行与维护"), ("14", "防汛")],
            ),
            "05": (
                "巩固脱贫攻坚成果衔接乡村振兴",
                [("04", "农村基础设施建设"), ("05", "生产发展")],
            ),
            "07": ("农村综合改革", [("05", "对村民委员会和村党支部的补助")]),
        },
    ),
    "214": (
        "交通运输支出",
        {
            "01": ("公路水路运输", [("01", "行政运行"), ("04", "公路建设"), ("06", "公路养护")]),
        },
    ),
    "215": (
        "资源勘探工业信息等支出",
        {
            "08": ("支持中小企业发展和管理支出", [("99", "其他支持中小企业发展和管理支出")]),
        },
    ),
    "220": (
        "自然资源海洋气象等支出",
        {
            "01": ("自然资源事务", [("01", "行政运行"), ("06", "自然资源利用与保护")]),
        },
    ),
    "221": (
        "住房保障支出",
        {
            "01": ("保障性安居工程支出", [("05", "农村危房改造"), ("08", "老旧小区改造")]),
            "02": ("住房改革支出", [("01", "住房公积金")]),
        },
    ),
    "222": (
        "粮油物资储备支出",
        {
            "01": ("粮油物资事务", [("01", "行政运行")]),
        },
    ),
    "223": (
        "国有资本经营预算支出",
        {
            "01": (
                "解决历史遗留问题及改革成本支出",
                [("99", "其他解决历史遗留问题及改革成本支出")],
            ),
            "02": ("国有企业资本金注入", [("01", "国有经济结构调整支出")]),
        },
    ),
    "224": (
        "灾害防治及应急管理支出",
        {
            "01": ("应急管理事务", [("01", "行政运行")]),
            "02": ("消防救援事务", [("04", "消防应急救援")]),
        },
    ),
    "227": ("预备费", {}),
    "209": (
        "社会保险基金支出",
        {
            "01": ("企业职工基本养老保险基金支出", [("01", "基本养老金")]),
            "10": ("城乡居民基本养老保险基金支出", [("01", "基础养老金支出")]),
            "11": ("机关事业单位基本养老保险基金支出", [("01", "基本养老金支出")]),
            "12": ("职工基本医疗保险基金支出", [("01", "职工基本医疗保险统筹基金")]),
            "13": (
                "城乡居民基本医疗保险基金支出",
                [("01", "城乡居民基本医疗保险基金医疗待遇支出")],
            ),
        },
    ),
    "229": (
        "其他支出",
        {
            "60": (
                "彩票公益金安排的支出",
                [("02", "用于社会福利的彩票公益金支出"), ("08", "用于体育事业的彩票公益金支出")],
            ),
            "99": ("其他支出", [("01", "其他支出")]),
        },
    ),
    "230": (
        "转移性支出",
        {
            "06": ("上解支出", [("01", "一般上解支出")]),
        },
    ),
    "232": (
        "债务付息支出",
        {
            "03": ("地方政府一般债务付息支出", [("01", "地方政府一般债券付息支出")]),
            "04": ("地方政府专项债务付息支出", [("11", "国有土地使用权出让金债务付息支出")]),
        },
    ),
}

_ECONOMIC = {
    "301": (
        "工资福利支出",
        {"01": "基本工资", "02": "津贴补贴", "03": "奖金", "08": "机关事业单位基本养老保险缴费"},
    ),
    "302": (
        "商品和服务支出",
        {
            "01": "办公费",
            "05": "水费",
            "06": "电费",
            "11": "差旅费",
            "12": "因公出国（境）费用",
            "13": "维修（护）费",
            "15": "会议费",
            "16": "培训费",
            "17": "公务接待费",
            "28": "工会经费",
            "31": "公务用车运行维护费",
            "39": "其他交通费用",
        },
    ),
    "303": ("对个人和家庭的补助", {"01": "离休费", "02": "退休费", "05": "生活补助"}),
    "310": ("资本性支出", {"02": "办公设备购置", "06": "大型修缮", "13": "公务用车购置"}),
}

_REVENUE = {
    "101": (
        "税收收入",
        {
            "01": "增值税",
            "04": "企业所得税",
            "06": "个人所得税",
            "09": "城市维护建设税",
            "10": "房产税",
            "11": "印花税",
            "12": "城镇土地使用税",
            "13": "土地增值税",
            "14": "车船税",
            "19": "契税",
        },
    ),
    "103": (
        "非税收入",
        {
            "02": "专项收入",
            "04": "行政事业性收费收入",
            "05": "罚没收入",
            "07": "国有资源（资产）有偿使用收入",
        },
    ),
}


def standard_subjects() -> list[tuple[str, str, str]]:
    """(kind, code, name) of the working subset, parents before children."""
    rows = []
    for top, (name, sections) in _FUNCTION.items():
        rows.append((ClassificationKind.FUNCTION, top, name))
        for section, (section_name, items) in sections.items():
            rows.append((ClassificationKind.FUNCTION, top + section, section_name))
            for item, item_name in items:
                rows.append((ClassificationKind.FUNCTION, top + section + item, item_name))
    for kind, table in (
        (ClassificationKind.ECONOMIC, _ECONOMIC),
        (ClassificationKind.REVENUE, _REVENUE),
    ):
        for top, (name, sections) in table.items():
            rows.append((kind, top, name))
            for section, section_name in sections.items():
                rows.append((kind, top + section, section_name))
    return rows


@transaction.atomic
def load_subjects(year: int, rows=None) -> int:
    """Store *rows* (kind, code, name) as the classification of *year*; returns how many
    were new. Parents are linked by code; existing codes keep their row (names updated)."""
    rows = rows if rows is not None else standard_subjects()
    existing = {
        (kind, code): subject
        for subject in Subject.objects.filter(year=year)
        for kind, code in [(subject.kind, subject.code)]
    }
    created = 0
    for kind, code, name in sorted(rows, key=lambda r: (r[0], len(r[1]), r[1])):
        if level_of(kind, code) is None:
            raise ValueError(f"科目编码 {code} 的位数不符合{ClassificationKind(kind).label}的规则")
        parent = existing.get((kind, parent_code(kind, code)))
        subject = existing.get((kind, code))
        if subject is None:
            subject = Subject(year=year, kind=kind, code=code, name=name, parent=parent)
            subject.save()
            existing[(kind, code)] = subject
            created += 1
        elif subject.name != name or subject.parent_id != (parent.pk if parent else None):
            subject.name = name
            subject.parent = parent
            subject.save()
    return created


def copy_subjects(from_year: int, to_year: int) -> int:
    rows = Subject.objects.filter(year=from_year).values_list("kind", "code", "name")
    return load_subjects(to_year, list(rows))


# --- importing the Ministry of Finance's full list -------------------------------------------

CLASSIFICATION_CODE_HEADERS = ("科目编码", "科目代码", "编码")
CLASSIFICATION_NAME_HEADERS = ("科目名称", "名称")
CLASSIFICATION_KIND_HEADERS = ("科目类别", "科目分类", "类别", "分类")
KIND_BY_FIRST_DIGIT = {
    "1": ClassificationKind.REVENUE,
    "2": ClassificationKind.FUNCTION,
    "3": ClassificationKind.ECONOMIC,
    "5": ClassificationKind.ECONOMIC,
}
SUBJECT_NAME_MAX = Subject._meta.get_field("name").max_length


@dataclass
class ClassificationResult:
    status: str
    year: int | None = None
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    errors: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "year": self.year,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "kept": self.kept,
            "errors": [e.as_dict() for e in self.errors],
        }


def _classification_header(sheet):
    from .importing import HEADER_SEARCH_ROWS, header_text

    for index, (_number, values) in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        headers = [header_text(v) for v in values]

        def find(names, headers=headers):
            return next((headers.index(n) for n in names if n in headers), None)

        code, name = find(CLASSIFICATION_CODE_HEADERS), find(CLASSIFICATION_NAME_HEADERS)
        if code is not None and name is not None:
            return index, code, name, find(CLASSIFICATION_KIND_HEADERS)
    return None


def _kind_of(text: str):
    from .importing import KIND_ALIASES

    text = re.sub(r"\s+", "", text)
    return KIND_ALIASES.get(text) or KIND_ALIASES.get(text.removesuffix("科目"))


def parse_classification(content: bytes, filename: str, year: int | None = None):
    """Read and check a classification list: ([(kind, code, name)], year, [RowError])."""
    from .importing import (
        ImportRefused,
        RowError,
        cell_text,
        code_text,
        is_formula,
        metadata_from_text,
        read_table,
    )

    try:
        sheet = read_table(content, filename)
    except ImportRefused as error:
        return [], year, [RowError(None, str(error))]
    errors = []
    found = _classification_header(sheet)
    if found is None:
        message = "未找到表头：科目表需要“科目编码”和“科目名称”两列（可选“科目类别”列）"
        return [], year, [RowError(None, message)]
    header_index, code_col, name_col, kind_col = found
    if year is None:
        above = " ".join(
            cell_text(v) for _n, values in sheet.rows[:header_index] for v in values if v
        )
        for text in (above, sheet.title_hint, filename):
            year = metadata_from_text(text).get("year")
            if year:
                break
    if year is None:
        errors.append(
            RowError(None, "无法确定科目表的年度：标题和文件名中都没有年份，请用 --year 指定")
        )
    elif not 1990 <= year <= 2100:
        errors.append(RowError(None, f"年度 {year} 无效"))
    header_row = sheet.rows[header_index][0]
    for top, bottom, _left, _right, ref in sheet.merged:
        if bottom > header_row:
            errors.append(
                RowError(max(top, header_row + 1), f"存在合并单元格 {ref}：请取消合并并逐行填写")
            )
    rows, first_row = [], {}

    def cell(values, index):
        return values[index] if index is not None and index < len(values) else None

    for number, values in sheet.rows[header_index + 1 :]:
        if all(cell_text(v) == "" for v in values):
            continue
        problems = []
        if any(is_formula(v) for v in values):
            problems.append("单元格含公式，请先将公式转换为数值或文字")
        code = code_text(cell(values, code_col))
        # names keep their full-width punctuation (（）、), as the Ministry writes them
        raw_name = cell(values, name_col)
        name = re.sub(r"\s+", " ", "" if raw_name is None else str(raw_name)).strip()
        kind_text = cell_text(cell(values, kind_col))
        kind = None
        if kind_text:
            kind = _kind_of(kind_text)
            if kind is None:
                problems.append(
                    f"科目类别“{kind_text}”无效，应为{'、'.join(ClassificationKind.labels)}之一"
                )
        elif code[:1] in KIND_BY_FIRST_DIGIT:
            kind = KIND_BY_FIRST_DIGIT[code[:1]]
        if not code:
            problems.append("科目编码为空")
        elif not code.isdigit():
            problems.append(f"科目编码“{code}”应只包含数字")
        elif kind is None and not kind_text:
            problems.append(f"无法从科目编码 {code} 判断科目类别，请填写“科目类别”列")
        elif kind is not None and level_of(kind, code) is None:
            lengths = "/".join(str(n) for n in LEVEL_LENGTHS[kind])
            problems.append(
                f"科目编码 {code} 的位数不对（{ClassificationKind(kind).label}应为 {lengths} 位）"
            )
        if not name:
            problems.append("科目名称为空")
        elif len(name) > SUBJECT_NAME_MAX:
            problems.append(f"科目名称超过 {SUBJECT_NAME_MAX} 个字")
        if not problems and (kind, code) in first_row:
            problems.append(f"科目编码 {code} 与第 {first_row[(kind, code)]} 行重复")
        if problems:
            errors.append(RowError(number, "；".join(problems)))
            continue
        first_row[(kind, code)] = number
        rows.append((number, kind, code, name))
    existing = set()
    if year is not None:
        existing = set(Subject.objects.filter(year=year).values_list("kind", "code"))
    for number, kind, code, _name in rows:
        parent = parent_code(kind, code)
        if parent and (kind, parent) not in first_row and (kind, parent) not in existing:
            errors.append(
                RowError(
                    number, f"科目编码 {code} 的上级科目 {parent} 不在表中，也未在 {year} 年录入"
                )
            )
    if not errors and not rows:
        errors.append(RowError(None, "表头之后没有科目行"))
    return [(kind, code, name) for _n, kind, code, name in rows], year, errors


@transaction.atomic
def store_classification(year: int, rows) -> dict:
    """Create or update the year's subjects from *rows* (kind, code, name), parents by code.
    Codes already stored but not in the list are kept (figures may cite them)."""
    stored = {(s.kind, s.code): s for s in Subject.objects.filter(year=year)}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    listed = set()
    for kind, code, name in sorted(rows, key=lambda r: (r[0], len(r[1]), r[1])):
        listed.add((kind, code))
        parent = stored.get((kind, parent_code(kind, code)))
        parent_id = parent.pk if parent else None
        subject = stored.get((kind, code))
        if subject is None:
            subject = Subject(year=year, kind=kind, code=code, name=name, parent_id=parent_id)
            subject.save()
            stored[(kind, code)] = subject
            counts["created"] += 1
        elif subject.name != name or subject.parent_id != parent_id:
            subject.name, subject.parent_id = name, parent_id
            subject.save(update_fields=["name", "parent", "level"])
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    counts["kept"] = len(set(stored) - listed)
    return counts


def import_classification(content: bytes, filename: str, year: int | None = None):
    """Read, check and (only when every row is good) store a classification list."""
    from .importing import MAX_REPORTED_ERRORS

    rows, year, errors = parse_classification(content, filename, year)
    if errors:
        errors.sort(key=lambda e: e.row or 0)
        return ClassificationResult(status="error", year=year, errors=errors[:MAX_REPORTED_ERRORS])
    counts = store_classification(year, rows)
    return ClassificationResult(status="ok", year=year, rows=len(rows), **counts)
