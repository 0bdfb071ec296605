"""Password policy beyond Django's validators: a long password made of one or two
characters repeated (aaaaaaaaaaaa, abababababab, 123123123123) is refused."""

from django.core.exceptions import ValidationError

MIN_DISTINCT = 5


def _is_repetition(password: str) -> bool:
    n = len(password)
    for size in range(1, n // 2 + 1):
        if n % size == 0 and password[:size] * (n // size) == password:
            return True
    return False


class VarietyValidator:
    def __init__(self, min_distinct=MIN_DISTINCT):
        self.min_distinct = min_distinct

    def validate(self, password, user=None):
        if len(set(password)) < self.min_distinct or _is_repetition(password):
            raise ValidationError(
                f"密码过于简单：至少要有 {self.min_distinct} 个不同的字符，且不能是同一段字符的重复。",
                code="password_too_repetitive",
            )

    def get_help_text(self):
        return f"密码至少要有 {self.min_distinct} 个不同的字符，且不能是同一段字符的重复。"
