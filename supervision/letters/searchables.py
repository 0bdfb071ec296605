"""Letters and the departments' written answers in the site-wide search.

Visibility is ``services.letters_for``: staff and signers see every letter, a liaison the
sent letters of his or her own department (and their answers)."""

from search.registry import register_searchable

from .models import Letter, LetterAnswer


def _letters_for(user):
    from .services import letters_for

    return letters_for(user)


def _answers_for(user):
    from .services import answers_for

    return answers_for(user).select_related("letter")


def register():
    register_searchable(
        Letter,
        type_label="预警函件",
        queryset_for_user=_letters_for,
        url_for=lambda letter: letter.get_absolute_url(),
        date_for=lambda letter: letter.sent_on or letter.created_at,
        facets={
            "year": lambda letter: letter.year or letter.created_at.year,
            "status": lambda letter: letter.get_status_display(),
        },
    )
    register_searchable(
        LetterAnswer,
        type_label="函件答复",
        queryset_for_user=_answers_for,
        url_for=lambda answer: answer.get_absolute_url(),
        title_for=str,
        body_for=lambda answer: answer.text,
        date_for=lambda answer: answer.answered_on,
        facets={"year": lambda answer: answer.answered_on.year},
    )
