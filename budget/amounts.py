"""Amounts: exact decimals in 元 in the database, 万元 with two decimals on the page."""

import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

YUAN = "元"
WAN = "万元"
UNIT_FACTORS = {YUAN: Decimal(1), WAN: Decimal(10000)}
CENT = Decimal("0.01")
MAX_YUAN = Decimal("9999999999999999.99")


class AmountError(ValueError):
    pass


def parse_amount(value, unit: str = WAN) -> Decimal | None:
    """Read a cell as an amount in *unit* and return it in 元; None for an empty cell.

    Accepts numbers, text with thousands separators, full-width digits and accounting
    negatives "(12.50)"; refuses words, formulas and more precision than a cent.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise AmountError("金额不能是逻辑值")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr of a float is its shortest round-trip text: 0.1 stays 0.1
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
        if text in ("", "-", "—", "--"):
            return None
        if text.startswith("="):
            raise AmountError(f"金额单元格是公式“{text[:30]}”，请先将公式转换为数值再导入")
        negative = text.startswith("(") and text.endswith(")")
        if negative:
            text = text[1:-1]
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise AmountError(f"金额“{str(value)[:30]}”不是数字") from None
        if not number.is_finite():
            raise AmountError(f"金额“{str(value)[:30]}”不是数字")
        if negative:
            number = -number
    yuan = number * UNIT_FACTORS[unit]
    if yuan != yuan.quantize(CENT, rounding=ROUND_HALF_UP):
        if isinstance(value, float):
            yuan = yuan.quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            raise AmountError(f"金额“{value}”精确到了分以下，超出允许的精度")
    if abs(yuan) > MAX_YUAN:
        raise AmountError(f"金额“{value}”超出允许范围")
    return yuan.quantize(CENT)


def to_wan(yuan: Decimal | None) -> Decimal | None:
    if yuan is None:
        return None
    return (Decimal(yuan) / UNIT_FACTORS[WAN]).quantize(CENT, rounding=ROUND_HALF_UP)


def format_wan(yuan: Decimal | None) -> str:
    """1234567.00 元 → "123.46" (万元, two decimals, thousands separated)."""
    wan = to_wan(yuan)
    return "" if wan is None else f"{wan:,.2f}"


def format_percent(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}%"
