"""Export of a user's excerpts (摘录) to DOCX, registered like every export."""

import io

from cms.usage.exports import ExportFile, RegisteredExportView, export_filename

from .services import excerpts_of

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def excerpts_docx(excerpts, title: str) -> ExportFile:
    """Each excerpt under its source, cited as 《标题》第X条, then the note and tags."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=1)
    count = 0
    for excerpt in excerpts:
        count += 1
        document.add_heading(f"{count}. {excerpt.citation}", level=2)
        page = excerpt.page
        source = "；".join(
            part
            for part in (
                page.doc_number,
                page.issuer,
                page.issued_on and f"{page.issued_on:%Y年%-m月%-d日}发布",
                page.current_status_label,
            )
            if part
        )
        if source:
            document.add_paragraph(source).runs[0].italic = True
        for line in excerpt.text.splitlines():
            if line.strip():
                document.add_paragraph(line.strip(), style="Quote")
        if excerpt.note:
            document.add_paragraph(f"笔记：{excerpt.note}")
        names = list(excerpt.tags.names())
        if names:
            document.add_paragraph("标签：" + "、".join(sorted(names)))
        document.add_paragraph(f"出处：{excerpt.citation}")
    buffer = io.BytesIO()
    document.save(buffer)
    return ExportFile(
        filename=export_filename(title, "docx"),
        content=buffer.getvalue(),
        content_type=DOCX_CONTENT_TYPE,
        rows=count,
    )


class ExcerptExportView(RegisteredExportView):
    export_module = "政策法规库"

    def has_export_permission(self, request) -> bool:
        return super().has_export_permission(request) and request.user.has_perm("cms.query_data")

    def selected(self):
        excerpts = excerpts_of(self.request.user)
        tag = self.request.GET.get("tag", "").strip()
        if tag:
            excerpts = excerpts.filter(tags__name=tag)
        return excerpts, tag

    def get_export_description(self) -> str:
        _excerpts, tag = self.selected()
        return f"我的摘录（标签：{tag}）" if tag else "我的摘录（全部）"

    def build_export(self) -> ExportFile:
        excerpts, tag = self.selected()
        return excerpts_docx(list(excerpts), f"政策法规摘录{f'-{tag}' if tag else ''}")
