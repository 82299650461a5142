"""Draw the sample images the image-driven example DAGs upload to object storage.

Run once to (re)create them: ``python dags/hailuo_assets/make_samples.py``. They are drawn, not
photographed, so the repository carries no third-party images; each is a JPEG under 60 KB with a
short side above 300 px and an aspect ratio inside the vendors' 2:5..5:2 window.

For a real vendor, replace ``subject.jpg`` with a photo of a real face: subject reference
(``S2V-01``) needs a recognisable person, which a drawing may not pass.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
SIZE = (768, 432)  # 16:9, the shape of a 768P clip


def _sky(draw: ImageDraw.ImageDraw, top: tuple[int, int, int], bottom: tuple[int, int, int],
         size: tuple[int, int]) -> None:
    width, height = size
    for y in range(height):
        mix = y / (height - 1)
        colour = tuple(int(top[i] + (bottom[i] - top[i]) * mix) for i in range(3))
        draw.line([(0, y), (width, y)], fill=colour)


def harbour(sun_height: float, sky_top: tuple[int, int, int], sky_bottom: tuple[int, int, int]) -> Image.Image:
    """A harbour at a given hour: sky, sun, hills, water and a lighthouse."""
    width, height = SIZE
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _sky(draw, sky_top, sky_bottom, SIZE)
    sun_y = int(height * sun_height)
    draw.ellipse([width * 0.62, sun_y - 38, width * 0.62 + 76, sun_y + 38], fill=(255, 214, 120))
    draw.polygon([(0, 300), (160, 220), (330, 290), (520, 210), (768, 300), (768, 432), (0, 432)],
                 fill=(46, 74, 70))
    draw.rectangle([0, 318, width, height], fill=(38, 86, 122))
    for y in range(326, height, 12):
        draw.line([(0, y), (width, y)], fill=(70, 124, 160), width=2)
    draw.polygon([(120, 318), (132, 200), (148, 200), (160, 318)], fill=(236, 236, 230))
    draw.rectangle([126, 186, 154, 200], fill=(200, 40, 40))
    return image.filter(ImageFilter.SMOOTH)


def character() -> Image.Image:
    """A friendly drawn character, portrait 3:4, for the subject-reference example."""
    image = Image.new("RGB", (480, 640), (222, 232, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle([110, 440, 370, 640], fill=(60, 96, 160))  # shoulders
    draw.ellipse([140, 140, 340, 380], fill=(240, 200, 170))  # face
    draw.pieslice([130, 110, 350, 330], 180, 360, fill=(70, 48, 36))  # hair
    draw.ellipse([190, 240, 215, 265], fill=(40, 40, 40))
    draw.ellipse([265, 240, 290, 265], fill=(40, 40, 40))
    draw.arc([200, 280, 280, 340], 20, 160, fill=(150, 60, 60), width=5)
    draw.rectangle([215, 370, 265, 440], fill=(240, 200, 170))  # neck
    return image.filter(ImageFilter.SMOOTH)


def main() -> None:
    samples = {
        "harbour_dawn.jpg": harbour(0.55, (36, 52, 110), (250, 160, 120)),
        "harbour_noon.jpg": harbour(0.15, (70, 140, 220), (180, 220, 250)),
        "subject.jpg": character(),
    }
    for name, image in samples.items():
        path = HERE / name
        image.save(path, "JPEG", quality=85, optimize=True)
        print(f"{path}: {image.size[0]}x{image.size[1]}, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
