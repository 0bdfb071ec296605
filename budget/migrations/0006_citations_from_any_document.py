"""FigureCitation: a citing document need not be a page (letters, audit reports), and a cited
figure need not be a budget figure (source)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def name_pages(apps, schema_editor):
    FigureCitation = apps.get_model("budget", "FigureCitation")
    for citation in FigureCitation.objects.filter(document_key=""):
        citation.document_key = str(citation.page_id)
        citation.save(update_fields=["document_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("budget", "0005_alerts_moved_to_supervision"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="figurecitation", name="budget_citation_unique"),
        migrations.AlterField(
            model_name="figurecitation",
            name="page",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="budget_citations",
                to=settings.WAGTAIL_PAGE_MODEL,
                verbose_name="页面",
            ),
        ),
        migrations.AddField(
            model_name="figurecitation",
            name="document",
            field=models.CharField(
                choices=[("page", "页面"), ("letter", "函件"), ("audit_report", "审计整改情况报告")],
                default="page",
                max_length=16,
                verbose_name="引用文档类型",
            ),
        ),
        migrations.AddField(
            model_name="figurecitation",
            name="document_key",
            field=models.CharField(default="", max_length=40, verbose_name="引用文档编号"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="figurecitation",
            name="document_title",
            field=models.CharField(blank=True, max_length=300, verbose_name="引用文档标题"),
        ),
        migrations.AddField(
            model_name="figurecitation",
            name="document_url",
            field=models.CharField(blank=True, max_length=500, verbose_name="引用文档地址"),
        ),
        migrations.AddField(
            model_name="figurecitation",
            name="source",
            field=models.CharField(
                db_index=True, default="budget", max_length=16, verbose_name="数据来源"
            ),
        ),
        migrations.RunPython(name_pages, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="figurecitation",
            constraint=models.UniqueConstraint(
                fields=("document", "document_key", "figure_key"), name="budget_citation_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="figurecitation",
            constraint=models.CheckConstraint(
                condition=models.Q(("document", "page"), ("page__isnull", False))
                | models.Q(models.Q(("document", "page"), _negated=True), ("page__isnull", True)),
                name="budget_citation_page_iff_page_document",
            ),
        ),
    ]
