import csv
import io

import pytest

from budget.models import Department

from .subjects import store_subjects


@pytest.fixture
def classification(db):
    """The standard classification of 2025 and 2026 (2 × 275 subjects), as load_subjects
    stores it, without Wagtail's reference index entries (tests/budget/subjects.py)."""
    store_subjects(2025)
    store_subjects(2026)
    return 2026


@pytest.fixture
def departments(db):
    finance = Department.objects.create(code="101", name="县财政局")
    education = Department.objects.create(code="201", name="县教育局")
    school = Department.objects.create(code="201001", name="县第一中学", parent=education)
    return {"finance": finance, "education": education, "school": school}


def csv_bytes(rows, encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, merge=None, title="Sheet"):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for ref in merge or []:
        sheet.merge_cells(ref)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


LONG_HEADER = [
    "年度",
    "月份",
    "预算类型",
    "科目编码",
    "科目名称",
    "单位编码",
    "单位名称",
    "阶段",
    "金额(万元)",
]


def bloated_xlsx(rows, blank_rows=200_000, styled_cells=3):
    """An XLSX as some finance systems and hand-formatted sheets write it: the real rows,
    a declared dimension of the whole sheet (A1:XFD1048576) and *blank_rows* formatted but
    empty rows below them. Small on disk (the rows compress to almost nothing)."""
    import re
    import zipfile

    content = xlsx_bytes(rows)
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text = re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', text)
                start = len(rows) + 1
                empty = "".join(
                    f'<row r="{n}" spans="1:16384" s="0" customFormat="1">'
                    + "".join(f'<c r="{letter}{n}" s="0"/>' for letter in "ABCDEFGH"[:styled_cells])
                    + "</row>"
                    for n in range(start, start + blank_rows)
                )
                if "<sheetData/>" in text:
                    text = text.replace("<sheetData/>", f"<sheetData>{empty}</sheetData>")
                else:
                    text = text.replace("</sheetData>", empty + "</sheetData>")
                data = text.encode()
            target.writestr(info, data)
    return buffer.getvalue()
