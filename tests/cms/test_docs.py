from pathlib import Path

import pytest

from cms.management.commands.roles_matrix import matrix_markdown

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_roles_doc_shows_the_current_matrix():
    doc = (ROOT / "docs" / "roles.md").read_text(encoding="utf-8")
    start = doc.index("<!-- matrix:start -->") + len("<!-- matrix:start -->")
    end = doc.index("<!-- matrix:end -->")
    assert doc[start:end].strip() == matrix_markdown().strip(), (
        "docs/roles.md is out of date: paste the output of `manage.py roles_matrix`"
    )


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
