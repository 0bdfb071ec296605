"""The admin's document form (WAGTAILDOCS_DOCUMENT_FORM_BASE): every new file goes through
the shared upload check (cms.uploads) before Wagtail stores it."""

from django.core.files.uploadedfile import UploadedFile
from wagtail.documents.forms import BaseDocumentForm

from cms.uploads import UploadRefused, check_uploaded_file


class CheckedDocumentForm(BaseDocumentForm):
    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if isinstance(upload, UploadedFile):  # a new file (an unchanged one is already kept)
            try:
                check_uploaded_file(upload, "document")
            except UploadRefused as error:
                raise self.error_class_for(error) from None
        return upload

    @staticmethod
    def error_class_for(error):
        from django.core.exceptions import ValidationError

        return ValidationError(error.messages[0])
