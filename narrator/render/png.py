"""The report's charts (``narrator.render.charts``) as PNG pictures, for e-mail.

Mail programs show neither SVG nor ``data:`` images, and ReportLab's own bitmap renderer needs a
Cairo binding this project does not ship; so the few shapes the charts are made of (rectangles,
lines, circles and strings) are drawn here with Pillow (which ReportLab itself requires), at twice
the size for sharp text. The picture is the same Drawing the HTML report and the PDF show.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Rect, String

from narrator.text import plain

SCALE = 2
"""Pixels per drawing point."""
_FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path(reportlab.__file__).parent / "fonts" / "Vera.ttf")


@lru_cache(maxsize=16)
def _font(size: float) -> ImageFont.ImageFont:
    path = next((p for p in _FONTS if p.is_file()), None)
    pixels = max(1, round(size * SCALE))
    return ImageFont.truetype(str(path), pixels) if path else ImageFont.load_default(pixels)


def _colour(colour) -> tuple[int, int, int] | None:
    if colour is None:
        return None
    red, green, blue = colour.rgb()
    return round(red * 255), round(green * 255), round(blue * 255)


def png(drawing: Drawing) -> bytes:
    """The drawing as the bytes of a PNG file, white behind it."""
    width, height = round(drawing.width * SCALE), round(drawing.height * SCALE)
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[float, float]:  # ReportLab's origin is bottom left, Pillow's top left
        return x * SCALE, height - y * SCALE

    def draw(shapes) -> None:
        for shape in shapes:
            if isinstance(shape, Group):
                draw(shape.contents)
            elif isinstance(shape, Rect):
                left, top = at(shape.x, shape.y + shape.height)
                right, bottom = at(shape.x + shape.width, shape.y)
                pen.rectangle((left, top, max(left, right - 1), max(top, bottom - 1)), fill=_colour(shape.fillColor),
                              outline=_colour(shape.strokeColor))
            elif isinstance(shape, Line):
                pen.line((*at(shape.x1, shape.y1), *at(shape.x2, shape.y2)), fill=_colour(shape.strokeColor) or (0, 0, 0),
                         width=max(1, round((shape.strokeWidth or 1) * SCALE)))
            elif isinstance(shape, Circle):
                x, y = at(shape.cx, shape.cy)
                r = shape.r * SCALE
                pen.ellipse((x - r, y - r, x + r, y + r), fill=_colour(shape.fillColor), outline=_colour(shape.strokeColor))
            elif isinstance(shape, String):
                anchor = {"start": "ls", "middle": "ms", "end": "rs"}.get(shape.textAnchor, "ls")
                pen.text(at(shape.x, shape.y), plain(shape.text), font=_font(shape.fontSize),
                         fill=_colour(shape.fillColor) or (0, 0, 0), anchor=anchor)

    draw(drawing.contents)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
