#!/usr/bin/python3
"""Write test/data/pil-checksums.json: what PIL decodes from each shared image, as checksums only
(nothing from ../shared is committed): per image its width, height and the sha256 of
Image.open(f).convert('RGB').tobytes(), for the 100 sample photos and the image cases of
../shared/cases; for a case with an EXIF orientation also the sha256 after
ImageOps.exif_transpose (the orientation applied), and for one with transparency the sha256 of
Image.alpha_composite over opaque white. test/images.test.ts decodes each file with the CLI's
decoder and compares.

Run with the Debian PIL:  /usr/bin/python3 scripts/pil-checksums.py [--shared DIR]
(DIR defaults to $SQUEEZENET_SHARED, else ../shared beside the project).
"""

import argparse
import hashlib
import json
import os
from pathlib import Path

import PIL
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test" / "data" / "pil-checksums.json"
CASES = [
    "jpeg-adobe-rgb-transform0.jpg",
    "jpeg-exif-orientation-6.jpg",
    "png-rgba-hidden-colour-under-alpha0.png",
    "png-trailing-bytes-after-iend.png",
]


def sha256(im):
    return hashlib.sha256(im.tobytes()).hexdigest()


def entry(path):
    im = Image.open(path)
    rgb = im.convert("RGB")
    e = {"file": path.name, "format": im.format, "mode": im.mode, "width": rgb.width, "height": rgb.height, "sha256": sha256(rgb)}
    orientation = im.getexif().get(0x0112)
    if orientation not in (None, 1):
        upright = ImageOps.exif_transpose(im).convert("RGB")
        e["orientation"] = orientation
        e["upright"] = {"width": upright.width, "height": upright.height, "sha256": sha256(upright)}
    if im.mode in ("RGBA", "LA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        e["over_white_sha256"] = sha256(Image.alpha_composite(white, rgba).convert("RGB"))
    return e


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = os.environ.get("SQUEEZENET_SHARED") or str(ROOT.parent / "shared")
    ap.add_argument("--shared", default=default)
    shared = Path(ap.parse_args().shared)
    samples = shared / "data" / "imagenet-sample"
    if not samples.is_dir():
        raise SystemExit(f"no sample images at {samples}: pass --shared DIR or set SQUEEZENET_SHARED")
    out = {
        "pil": PIL.__version__,
        "samples": [entry(f) for f in sorted(samples.iterdir()) if f.suffix.lower() in (".jpeg", ".jpg", ".png")],
        "cases": [entry(shared / "cases" / name) for name in CASES],
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out['samples'])} sample and {len(out['cases'])} case checksums to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
