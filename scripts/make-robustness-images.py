#!/usr/bin/python3
"""Write test/data/robustness/: small synthetic images in the variants test/data/images lacks
(16-bit RGB and RGBA, Adam7-interlaced, 1-bit, 1x1, a 300x2 strip, progressive grey and CMYK
JPEGs, a restart-interval JPEG), each with PIL's decoding (convert('RGB'), raw bytes) beside it
as NAME.rgb, and images.json (mode, size). test/robustness.images.test.ts decodes each with the
CLI's decoders and compares. The pictures are formulas, not photos.
Run with the Debian PIL:  /usr/bin/python3 scripts/make-robustness-images.py
"""

import json
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "test" / "data" / "robustness"


def picture(w, h):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / 3) * np.cos(y / 4)
    g = (x * 9 + y * 5) % 256
    b = np.where((x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(w, h) / 3) ** 2, 220, 30)
    return np.clip(np.rint(np.stack([r, g, b], -1)), 0, 255).astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def interlaced_png(path, rgb):
    """PIL cannot write Adam7: the seven passes, filter 0, by hand."""
    h, w, _ = rgb.shape
    raw = b""
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
        sub = rgb[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        for row in sub:
            raw += b"\0" + row.tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    w, h = 23, 17
    arr = picture(w, h)
    rgb = Image.fromarray(arr, "RGB")
    wide = Image.fromarray(picture(300, 2), "RGB")
    a16 = arr.astype(np.uint16) * 257 + np.uint16(5)
    alpha16 = (np.linspace(0, 65535, w * h).reshape(h, w, 1)).astype(np.uint16)
    files = {
        # 16-bit big-endian samples, written directly (PIL has no 16-bit RGB mode to save from)
        "rgb16.png": lambda p: write_png16(p, a16, 2),
        "rgba16.png": lambda p: write_png16(p, np.concatenate([a16, alpha16], -1), 6),
        "interlaced.png": lambda p: interlaced_png(p, arr),
        "bilevel.png": lambda p: rgb.convert("1").save(p),
        "one-pixel.png": lambda p: rgb.resize((1, 1)).save(p),
        "one-pixel.jpg": lambda p: rgb.resize((1, 1)).save(p, quality=95),
        "strip-300x2.png": lambda p: wide.save(p),
        "grey-progressive.jpg": lambda p: rgb.convert("L").save(p, quality=90, progressive=True),
        "cmyk-progressive.jpg": lambda p: rgb.convert("CMYK").save(p, quality=90, progressive=True),
        "restart.jpg": lambda p: rgb.save(p, quality=90, restart_marker_blocks=1),
    }
    meta = {}
    for name, save in files.items():
        path = OUT / name
        save(path)
        im = Image.open(path)
        meta[name] = {"mode": im.mode, "size": list(im.size), "format": im.format}
        np.asarray(im.convert("RGB")).tofile(OUT / f"{name}.rgb")
    (OUT / "images.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(files)} images to {OUT}")


def write_png16(path, a, color_type):
    h, w, c = a.shape
    raw = b"".join(b"\0" + row.astype(">u2").tobytes() for row in a)
    ihdr = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


if __name__ == "__main__":
    main()
