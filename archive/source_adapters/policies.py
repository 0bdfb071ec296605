"""政策法规: a published policy document with its original files."""

from pathlib import Path

from archive.sources import FilingMaterial, Heading, Paragraph, register_source

from .common import local_date, office_name

RENDERABLE = (".pdf", ".docx", ".doc", ".odt", ".rtf", ".wps", ".txt")


def _originals(page):
    files = []
    for stored in page.files.exclude(file="").order_by("created_at", "pk"):
        try:
            with stored.file.open("rb") as handle:
                files.append((stored.original_name or Path(stored.file.name).name, handle.read()))
        except OSError:
            continue  # listed in the metadata as missing; the rendition is made from the text
    return files


def describe(page) -> FilingMaterial:
    files = _originals(page)
    # A PDF original is stamped as it is; a word-processor original is converted.
    rendition_from = next(
        (name for name, _ in files if name.lower().endswith(".pdf")),
        next((name for name, _ in files if name.lower().endswith(RENDERABLE)), None),
    )
    blocks = []
    if page.summary:
        blocks += [Heading("摘要", 2), Paragraph(page.summary)]
    if page.body_text:
        blocks.append(Heading("正文", 2))
        blocks += [Paragraph(line) for line in page.body_text.splitlines() if line.strip()]
    date = (
        page.written_on
        or page.issued_on
        or local_date(page.first_published_at)
        or local_date(page.latest_revision_created_at)
    )
    return FilingMaterial(
        title=page.title,
        date=date,
        record_type="policy",
        doc_number=page.doc_number,
        responsible=page.issuer or office_name(),
        files=files,
        blocks=blocks,
        rendition_from=rendition_from,
        metadata={
            "页面编号": page.pk,
            "网址": page.url or "",
            "发文机关": page.issuer,
            "效力级别": page.get_effect_level_display() if page.effect_level else "",
            "时效性": page.get_status_display(),
            "成文日期": page.written_on,
            "发布日期": page.issued_on,
            "施行日期": page.effective_on,
            "分类": [str(c) for c in page.categories.all()],
            "原件": [
                {"文件名": f.original_name, "SHA-256": f.sha256, "大小": f.size}
                for f in page.files.all()
            ],
        },
    )


def register():
    from policies.models import PolicyPage

    register_source(
        "policies.policypage",
        model=PolicyPage,
        label="政策法规",
        record_type="policy",
        describe=describe,
        candidates=lambda: PolicyPage.objects.live().order_by("issued_on", "pk"),
        display=lambda page: f"{page.doc_number} {page.title}".strip(),
        url_for=lambda page: page.url or "",
    )
