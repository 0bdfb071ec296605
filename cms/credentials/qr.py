"""QR codes for TOTP enrolment, drawn as inline SVG so nothing leaves the site."""

import qrcode
import qrcode.image.svg


def qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=16, border=2)
    return image.to_string(encoding="unicode")
