"""Draw the residents' rich menu image: bot/data/richmenu.png.

A developer tool, not part of the package: it needs Pillow and a Noto CJK font, neither of
which the bot needs at runtime (the PNG is committed). Install Pillow into the venv by hand:

    .venv/bin/pip install Pillow
    .venv/bin/python scripts/make_richmenu_image.py          # writes the PNG
    .venv/bin/python scripts/make_richmenu_image.py --check  # exit 1 if the PNG is out of date

Fonts: Debian/Ubuntu `fonts-noto-cjk` (NotoSansCJK-Bold.ttc); or pass --font PATH.
The layout comes from bot.richmenu (ITEMS, grid()), so the image and the menu's
tappable areas cannot drift apart. Readers are often over 75: one idea per tile, text as big
as the tile allows, white on dark colours (contrast well above WCAG AA), no small print.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

try:
    from PIL import Image, ImageDraw, ImageFont
except ModuleNotFoundError:  # pragma: no cover - a hint for the developer
    sys.exit("Pillow is needed: .venv/bin/pip install Pillow")

from bot import richmenu

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "bot" / "data" / "richmenu.png"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
    "/System/Library/Fonts/ヒラギノ角ゴシック W6.ttc",
)
JP_INDEX = 0  # in NotoSansCJK-*.ttc, face 0 is "Noto Sans CJK JP"
GAP = 14  # white gap between tiles, px
RADIUS = 48
MAX_BYTES = 1_000_000  # LINE's limit for a rich menu image


def find_font(explicit: str | None) -> str:
    for path in ([explicit] if explicit else list(FONT_CANDIDATES)):
        if path and Path(path).exists():
            return path
    sys.exit("No Noto Sans CJK Bold font found: apt-get install fonts-noto-cjk, or pass --font")


def fit(draw: ImageDraw.ImageDraw, lines: tuple[str, ...], font_path: str, box_w: int,
        box_h: int, start: int) -> ImageFont.FreeTypeFont:
    """The largest font (from `start` down) with which every line fits the box."""
    size = start
    while size > 40:
        font = ImageFont.truetype(font_path, size, index=JP_INDEX)
        widths = [draw.textlength(line, font=font) for line in lines]
        height = len(lines) * size * 1.25
        if max(widths) <= box_w and height <= box_h:
            return font
        size -= 4
    return ImageFont.truetype(font_path, size, index=JP_INDEX)


def render(font_path: str, menu: richmenu.RoleMenu = richmenu.RESIDENT_MENU) -> bytes:
    image = Image.new("RGB", (menu.width, menu.height), "#ffffff")
    draw = ImageDraw.Draw(image)
    # One size for every tile's main text, so the menu reads evenly: the largest that fits all.
    cells = menu.grid()
    inner_w = min(w for _, _, w, _ in cells) - 2 * GAP - 80
    inner_h = min(h for _, _, _, h in cells) - 2 * GAP - 120
    lines_all = [item.lines for item in menu.items]
    size = min(fit(draw, lines, font_path, inner_w, inner_h, 190).size for lines in lines_all)
    font = ImageFont.truetype(font_path, size, index=JP_INDEX)
    for item, (x, y, w, h) in zip(menu.items, cells, strict=True):
        box = (x + GAP, y + GAP, x + w - GAP, y + h - GAP)
        draw.rounded_rectangle(box, radius=RADIUS, fill=item.colour)
        # A thin light frame makes each tile read as a button.
        draw.rounded_rectangle((box[0] + 10, box[1] + 10, box[2] - 10, box[3] - 10),
                               radius=RADIUS - 10, outline="#ffffff", width=4)
        line_h = size * 1.25
        top = y + h / 2 - line_h * len(item.lines) / 2
        for i, line in enumerate(item.lines):
            draw.text((x + w / 2, top + line_h * (i + 0.5)), line, font=font, fill="#ffffff",
                      anchor="mm")
    out = io.BytesIO()
    # A palette PNG keeps the file small (flat colours, anti-aliased text) and well under 1 MB.
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", help="path of a bold Japanese font (.ttc/.otf)")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--menu", choices=[m.role for m in richmenu.MENUS], default="resident",
                        help="which role's menu (volunteer and coordinator menus have their own PNG)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the committed PNG differs")
    args = parser.parse_args(argv)
    menu = next(m for m in richmenu.MENUS if m.role == args.menu)
    args.output = args.output or REPO / "bot" / "data" / menu.image
    data = render(find_font(args.font), menu)
    if len(data) > MAX_BYTES:
        sys.exit(f"image is {len(data)} bytes, over LINE's 1 MB limit")
    if args.check:
        current = args.output.read_bytes() if args.output.exists() else b""
        if current != data:
            print(f"{args.output} is out of date: run scripts/make_richmenu_image.py")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({menu.width}x{menu.height}, {len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
