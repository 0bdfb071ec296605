"""A briefing whose tables exercise the PDF layout: a 6-row alert table with long titles
after enough text that its caption falls near the foot of a page."""

import datetime


def sample_document(officialdoc, filler_paragraphs=9):
    alerts = [
        [
            f"{month}月",
            f"预警事项样例{i}：县交通运输局公路建设项目支出进度低于序时进度二十个百分点以上",
            "一般",
            "已反馈",
            "县交通运输局",
        ]
        for i, month in enumerate((4, 5, 6, 7, 8, 9))
    ]
    paragraph = (
        "1—9月，一般公共预算支出累计完成120,345.67万元，占调整预算的68.57%，"
        "低于序时进度6.43个百分点；同比增长2.86%。"
    )
    blocks = [officialdoc.Heading("预算执行总体情况", 1)]
    blocks += [officialdoc.Paragraph(paragraph) for _ in range(filler_paragraphs)]
    blocks.append(
        officialdoc.Table(["月份", "预警事项", "等级", "状态", "预算单位"], alerts, "本期监督预警")
    )
    return officialdoc.BriefingDocument(
        masthead="预算联网监督简报",
        year=2026,
        issue_number=5,
        editor="县人大常委会预算工委",
        date=datetime.date(2026, 10, 20),
        title="2026年第三季度预算执行情况",
        blocks=blocks,
    )
