#!/usr/bin/env python3
"""Reads an image the way a test's user would check it, with Pillow: format,
size, frames with their durations, the loop count, and the first frame's
RGBA as hex. Usage: inspect.py FILE  (prints JSON)"""
import json
import sys

from PIL import Image

img = Image.open(sys.argv[1])
frames = getattr(img, "n_frames", 1)
durations = []
for i in range(frames):
    img.seek(i)
    img.load()  # WebP sets a frame's duration when it is loaded
    durations.append(img.info.get("duration"))
img.seek(0)
print(json.dumps({
    "format": img.format,
    "width": img.width,
    "height": img.height,
    "frames": frames,
    "durations": durations,
    "loop": img.info.get("loop"),
    "rgba": img.convert("RGBA").tobytes().hex(),
}))
