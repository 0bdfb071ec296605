"""Statuses and fixed lists of 代表建议 (domain.md §4).

Categories (分类) and answer classes (答复类别) differ by place and term: they are data
(``Category``, ``AnswerClass``), not choices.
"""

from django.db import models


class SuggestionKind(models.TextChoices):
    MOTION = "motion", "议案"
    SUGGESTION = "suggestion", "建议"
    CRITICISM = "criticism", "批评"
    OPINION = "opinion", "意见"


class Period(models.TextChoices):
    DURING = "during", "大会期间"
    BETWEEN = "between", "闭会期间"


class Status(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提出"
    RETURNED = "returned", "退回修改"
    REGISTERED = "registered", "已登记"
    ASSIGNED = "assigned", "已交办"
    RETURN_REQUESTED = "return_requested", "申请退办"
    HANDLING = "handling", "办理中"
    ANSWERED = "answered", "已答复"
    EVALUATED = "evaluated", "已评价"
    DISSATISFIED = "dissatisfied", "代表不满意"
    REHANDLING = "rehandling", "重新办理"
    CLOSED = "closed", "已办结"
    CONVERTED = "converted", "已转为建议"
    LETTER = "letter", "转为来信"


# statuses in which a unit still owes the first or second answer (counted for 逾期)
OPEN_HANDLING = (
    Status.ASSIGNED,
    Status.RETURN_REQUESTED,
    Status.HANDLING,
    Status.REHANDLING,
)
# statuses after the first written answer (counted as 已答复 for 办复率)
ANSWERED_STATES = (
    Status.ANSWERED,
    Status.EVALUATED,
    Status.DISSATISFIED,
    Status.REHANDLING,
    Status.CLOSED,
)


# a deputy's own items before the office has them: only the lead deputy (and the invited
# co-signers) see them; lists, statistics and the office's queue leave them out
PRIVATE_STATES = ("draft", "returned")


class CoSignStatus(models.TextChoices):
    INVITED = "invited", "待回复"
    SIGNED = "signed", "已联名"
    DECLINED = "declined", "已谢绝"
    LAPSED = "lapsed", "未回复（已截止）"


class ConsultationForm(models.TextChoices):
    MEETING = "meeting", "当面座谈"
    VISIT = "visit", "走访"
    PHONE = "phone", "电话"
    VIDEO = "video", "视频"


class EvaluationResult(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY = "basically", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"


# default per-term data, used when a term is created without its own lists
DEFAULT_CATEGORIES = ["财政经济", "农业农村", "城建环资", "教科文卫", "内务司法", "社会建设"]
DEFAULT_ANSWER_CLASSES = [
    ("A", "已解决或基本解决", False),
    ("B", "正在解决或列入规划", True),
    ("C", "因条件限制待以后解决", False),
    ("D", "留作参考", False),
]
