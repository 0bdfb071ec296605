"""Administrator-maintained additions to the search dictionary (分词词典与同义词).

The repository's lists in search/dict/ are the base; these rows extend them without a
deploy. Saving or deleting one tells every process to reload its lexicon (see signals).
"""

import re

from django.core.exceptions import ValidationError
from django.db import models

from search.analysis import normalize


class DictionaryTerm(models.Model):
    """A word jieba must keep whole, e.g. a new budget or legal term (专项债券)."""

    word = models.CharField("词语", max_length=50, unique=True)
    frequency = models.PositiveIntegerField(
        "词频", default=20000, help_text="数值越大越倾向于整体切分；一般保持默认即可。"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "检索词典词语"
        verbose_name_plural = "检索词典词语"
        ordering = ["word"]

    def __str__(self):
        return self.word

    def clean(self):
        self.word = normalize(self.word).strip()
        if not self.word:
            raise ValidationError({"word": "请填写词语。"})
        if re.search(r"\s", self.word):
            raise ValidationError({"word": "词语中不能包含空格。"})


class SynonymGroup(models.Model):
    """Words that find each other (人大 ↔ 人民代表大会)."""

    terms = models.CharField(
        "同义词", max_length=500, help_text="两个或以上词语，用逗号分隔，例如：人大,人民代表大会"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "检索同义词组"
        verbose_name_plural = "检索同义词组"
        ordering = ["pk"]

    def __str__(self):
        return "、".join(self.term_list())

    def term_list(self) -> list[str]:
        return [t.strip() for t in re.split(r"[,，、;；\n]", self.terms or "") if t.strip()]

    def clean(self):
        terms = list(dict.fromkeys(normalize(t) for t in self.term_list()))
        if len(terms) < 2:
            raise ValidationError({"terms": "同义词组至少需要两个不同的词语，用逗号分隔。"})
        self.terms = ",".join(terms)


from search import signals  # noqa: E402,F401  (connects the lexicon reload receivers)
