#!/usr/bin/python3
"""Write test/data/images/: small synthetic images in the variants the decoders must read, each with
PIL's decoding of it (convert('RGB'), raw RGB bytes) beside it as NAME.rgb (for the 16-bit PNG, the
8-bit grey it was made from: PIL clips rather than rescales there), and images.json: per file its
mode, size and format, and where they apply
- `upright`: size and sha256 of PIL's ImageOps.exif_transpose(image).convert('RGB') (the EXIF
  orientation applied), for the orientation-N.jpg files;
- `over_white_sha256`: sha256 of the RGB bytes of PIL's Image.alpha_composite of the image over
  opaque white, for the files with transparency.
Also picture-240x180.png, the same formula at 240x180 (no .rgb beside it): the image that the
packaging tests (scripts/test-consumer.mjs, scripts/test-bundlers.mjs) classify, with PyTorch's
top-5 for it in fixtures/test-data-top5.json (fixtures/test-data-top5.py).

Besides what PIL writes itself: JPEGs PIL cannot write (YCCK with the Adobe transform 2, RGB stored
as is with the Adobe transform 0 or with the component ids 'R', 'G', 'B', CMYK without the Adobe
marker), assembled from one greyscale JPEG per plane (each plane becomes one non-interleaved scan
of a multi-component frame), and a JPEG per EXIF orientation 1..8 (four flat quadrants, the same
upright picture, so a wrong turn shows in any decoder).

The tests decode each with the CLI's decoder (test/cli.test.ts, test/images.test.ts) and compare
with PIL's pixels. The pictures are formulas (ramps, a checkerboard, a disc), not photos.
Run with the Debian PIL:  /usr/bin/python3 scripts/make-test-images.py
"""

import hashlib
import io
import json
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

OUT = Path(__file__).resolve().parent.parent / "test" / "data" / "images"

ORIENTATION_TAG = 0x0112
# The four quadrants of the orientation pictures: top-left, top-right, bottom-left, bottom-right.
QUADRANTS = [(220, 30, 30), (30, 200, 40), (40, 60, 220), (235, 225, 40)]


def picture(w, h):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / 5) * np.cos(y / 7)
    g = (x * 4 + y * 2) % 256
    b = np.where((x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(w, h) / 3) ** 2, 220, 30)
    b = b + 20 * ((x // 6 + y // 6) % 2)
    return np.clip(np.rint(np.stack([r, g, b], -1)), 0, 255).astype(np.uint8)


def quadrants(w, h):
    """Upright: four flat colours, so any decoder's pixels show which way up it turned them."""
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2, : w // 2], a[: h // 2, w // 2 :], a[h // 2 :, : w // 2], a[h // 2 :, w // 2 :] = QUADRANTS
    return a


# exif_transpose's operation per orientation, and the one that undoes it (stored = upright undone).
UNDO = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def oriented_jpeg(path, upright, orientation):
    stored = upright if UNDO[orientation] is None else upright.transpose(UNDO[orientation])
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    stored.save(path, quality=95, subsampling=0, exif=exif.tobytes())


def jpeg_segments(data):
    """(marker, payload) of every segment up to and including SOS, then the entropy-coded data."""
    assert data[:2] == b"\xff\xd8"
    o, segments = 2, []
    while True:
        marker = data[o + 1]
        length = struct.unpack(">H", data[o + 2 : o + 4])[0]
        segments.append((marker, data[o + 4 : o + 2 + length]))
        o += 2 + length
        if marker == 0xDA:
            end = data.rindex(b"\xff\xd9")
            return segments, data[o:end]


def segment(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def planar_jpeg(path, planes, ids, adobe_transform=None, quality=92):
    """A baseline JPEG of len(planes) components, 1x1 sampling, each stored by its own scan, taken
    from a greyscale JPEG of that plane written by PIL; an Adobe APP14 marker when a transform is given."""
    h, w = planes[0].shape
    out = b"\xff\xd8"
    if adobe_transform is not None:
        out += segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, adobe_transform))
    scans = []
    for i, plane in enumerate(planes):
        buf = io.BytesIO()
        Image.fromarray(plane, "L").save(buf, format="JPEG", quality=quality)
        segments, data = jpeg_segments(buf.getvalue())
        dqt = [p for m, p in segments if m == 0xDB]
        assert len(dqt) == 1 and len(dqt[0]) == 65, "one 8-bit quantisation table"
        out += segment(0xDB, bytes([i]) + dqt[0][1:])  # table i for component i
        dht = b"".join(segment(0xC4, p) for m, p in segments if m == 0xC4)
        scans.append(dht + segment(0xDA, bytes([1, ids[i], 0x00, 0, 63, 0])) + data)
    frame = struct.pack(">BHHB", 8, h, w, len(planes)) + b"".join(bytes([ids[i], 0x11, i]) for i in range(len(planes)))
    out += segment(0xC0, frame) + b"".join(scans) + b"\xff\xd9"
    path.write_bytes(out)


def sha256(im):
    return hashlib.sha256(im.tobytes()).hexdigest()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    w, h = 61, 47  # odd: chroma planes and MCUs that do not divide the image
    arr = picture(w, h)
    rgb = Image.fromarray(arr, "RGB")
    ycc = np.asarray(rgb.convert("YCbCr"))
    ramp = np.tile(np.linspace(0, 120, w).astype(np.uint8), (h, 1))
    frames = [rgb, Image.fromarray(255 - arr, "RGB")]
    palette_trns = rgb.quantize(16)
    palette_trns.info["transparency"] = 3
    files = {
        "baseline-444.jpg": lambda p: rgb.save(p, quality=92, subsampling=0),
        "baseline-422.jpg": lambda p: rgb.save(p, quality=92, subsampling=1),
        "baseline-420.jpg": lambda p: rgb.save(p, quality=92, subsampling=2),
        "progressive-420.jpg": lambda p: rgb.save(p, quality=92, subsampling=2, progressive=True),
        "grey.jpg": lambda p: rgb.convert("L").save(p, quality=92),
        "cmyk.jpg": lambda p: rgb.convert("CMYK").save(p, quality=92),
        "cmyk-no-adobe.jpg": lambda p: planar_jpeg(p, [arr[..., 0], arr[..., 1], arr[..., 2], 255 - ramp], [1, 2, 3, 4]),
        "ycck.jpg": lambda p: planar_jpeg(p, [ycc[..., 0], ycc[..., 1], ycc[..., 2], 255 - ramp], [1, 2, 3, 4], adobe_transform=2),
        "rgb-adobe-transform0.jpg": lambda p: planar_jpeg(p, [arr[..., 0], arr[..., 1], arr[..., 2]], [1, 2, 3], adobe_transform=0),
        "rgb-component-ids.jpg": lambda p: planar_jpeg(p, [arr[..., 0], arr[..., 1], arr[..., 2]], [ord("R"), ord("G"), ord("B")]),
        "rgb.png": lambda p: rgb.save(p),
        "rgba.png": lambda p: Image.merge("RGBA", (*rgb.split(), Image.linear_gradient("L").resize((w, h)))).save(p),
        "palette.png": lambda p: rgb.quantize(64).save(p),
        "palette-trns.png": lambda p: palette_trns.save(p, transparency=3),
        "grey-alpha.png": lambda p: rgb.convert("LA").save(p),
        "grey16.png": lambda p: Image.fromarray((np.asarray(rgb.convert("L"), dtype=np.uint16) * 257 + 3).astype(np.uint16)).save(p),
        "lossless.webp": lambda p: rgb.save(p, lossless=True),
        "lossy.webp": lambda p: rgb.save(p, quality=90),
        "two-frames.gif": lambda p: frames[0].save(p, save_all=True, append_images=frames[1:], duration=100),
        "lzw.tiff": lambda p: rgb.save(p, compression="tiff_lzw"),
    }
    upright = Image.fromarray(quadrants(32, 24), "RGB")
    for o in range(1, 9):
        files[f"orientation-{o}.jpg"] = lambda p, o=o: oriented_jpeg(p, upright, o)
    meta = {}
    for name, save in files.items():
        path = OUT / name
        save(path)
        im = Image.open(path)
        entry = {"mode": im.mode, "size": list(im.size), "format": im.format}
        # PIL clips 16-bit grey to 0..255 in convert('RGB'); a decoder should rescale instead,
        # so the 16-bit file is expected to look like the 8-bit grey it was made from.
        expected = rgb.convert("L").convert("RGB") if name == "grey16.png" else im.convert("RGB")
        np.asarray(expected).tofile(OUT / f"{name}.rgb")
        if name.startswith("orientation-"):
            turned = ImageOps.exif_transpose(im).convert("RGB")
            entry["orientation"] = im.getexif().get(ORIENTATION_TAG)
            entry["upright"] = {"size": list(turned.size), "sha256": sha256(turned)}
        if im.mode in ("RGBA", "LA") or "transparency" in im.info:
            rgba = im.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            entry["over_white_sha256"] = sha256(Image.alpha_composite(white, rgba).convert("RGB"))
        meta[name] = entry
    (OUT / "images.json").write_text(json.dumps(meta, indent=1) + "\n")
    # Big enough for the Caffe recipe to upscale little; PyTorch's top-1 is clear (pinwheel).
    Image.fromarray(picture(240, 180), "RGB").save(OUT / "picture-240x180.png", optimize=True)
    print(f"wrote {len(files) + 1} images to {OUT}")


if __name__ == "__main__":
    main()
