"""The reported hole: an .exe renamed .pdf was accepted as a suggestion answer on the
department page and served to deputies. Now refused with a Chinese message, nothing kept."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from suggestions.models import Reply

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def test_renamed_exe_is_refused_as_an_answer(client, assigned, finance_liaison, answer_a):
    client.force_login(finance_liaison)
    response = client.post(
        reverse("suggestions:step", args=[assigned.pk, "answer"]),
        {
            "answer_class": answer_a.pk,
            "signed_by": "张局长",
            "answered_on": "2026-03-20",
            "document": SimpleUploadedFile("答复函.pdf", EXE),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "不是PDF 文件" in page and "Windows 可执行程序" in page
    assert not Reply.objects.exists()
    # the same answer with a real PDF goes through
    response = client.post(
        reverse("suggestions:step", args=[assigned.pk, "answer"]),
        {
            "answer_class": answer_a.pk,
            "signed_by": "张局长",
            "answered_on": "2026-03-20",
            "document": SimpleUploadedFile("答复函.pdf", b"%PDF-1.4 x"),
        },
    )
    assert response.status_code == 302 and Reply.objects.count() == 1
