"""Pictures for uploads."""

import io
import random

from PIL import Image, ImageDraw


def screenshot(seed: int, *, size=(360, 640), fmt="PNG") -> bytes:
    """A review-screenshot-like picture: blocks of text-ish bars, different for every seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(0, size[0] - 40), rng.randrange(0, size[1] - 20)
        draw.rectangle([x, y, x + rng.randrange(20, 200), y + rng.randrange(6, 60)],
                       fill=tuple(rng.randrange(0, 255) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()
