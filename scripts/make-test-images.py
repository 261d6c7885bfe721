#!/usr/bin/python3
"""Write test/data/images/: small synthetic JPEG and PNG files in the variants the CLI must read,
each with PIL's decoding of it (convert('RGB'), raw RGB bytes) beside it as NAME.rgb (for the
16-bit PNG, the 8-bit grey it was made from: PIL clips rather than rescales there).
Also picture-240x180.png, the same formula at 240x180 (no .rgb beside it): the image that the
packaging tests (scripts/test-consumer.mjs, scripts/test-bundlers.mjs) classify, with PyTorch's
top-5 for it in fixtures/test-data-top5.json (fixtures/test-data-top5.py).

test/cli.test.ts decodes each with the CLI's decoders and compares against PIL's pixels.
The pictures are formulas (ramps, a checkerboard, a disc), not photos.
Run with the Debian PIL:  /usr/bin/python3 scripts/make-test-images.py
"""

import json
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "test" / "data" / "images"


def picture(w, h):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / 5) * np.cos(y / 7)
    g = (x * 4 + y * 2) % 256
    b = np.where((x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(w, h) / 3) ** 2, 220, 30)
    b = b + 20 * ((x // 6 + y // 6) % 2)
    return np.clip(np.rint(np.stack([r, g, b], -1)), 0, 255).astype(np.uint8)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    w, h = 61, 47  # odd: chroma planes and MCUs that do not divide the image
    rgb = Image.fromarray(picture(w, h), "RGB")
    files = {
        "baseline-444.jpg": lambda p: rgb.save(p, quality=92, subsampling=0),
        "baseline-422.jpg": lambda p: rgb.save(p, quality=92, subsampling=1),
        "baseline-420.jpg": lambda p: rgb.save(p, quality=92, subsampling=2),
        "progressive-420.jpg": lambda p: rgb.save(p, quality=92, subsampling=2, progressive=True),
        "grey.jpg": lambda p: rgb.convert("L").save(p, quality=92),
        "cmyk.jpg": lambda p: rgb.convert("CMYK").save(p, quality=92),
        "rgb.png": lambda p: rgb.save(p),
        "rgba.png": lambda p: Image.merge("RGBA", (*rgb.split(), Image.linear_gradient("L").resize((w, h)))).save(p),
        "palette.png": lambda p: rgb.quantize(64).save(p),
        "grey-alpha.png": lambda p: rgb.convert("LA").save(p),
        "grey16.png": lambda p: Image.fromarray((np.asarray(rgb.convert("L"), dtype=np.uint16) * 257 + 3).astype(np.uint16)).save(p),
    }
    meta = {}
    for name, save in files.items():
        path = OUT / name
        save(path)
        im = Image.open(path)
        meta[name] = {"mode": im.mode, "size": list(im.size), "format": im.format}
        # PIL clips 16-bit grey to 0..255 in convert('RGB'); a decoder should rescale instead,
        # so the 16-bit file is expected to look like the 8-bit grey it was made from.
        expected = rgb.convert("L").convert("RGB") if name == "grey16.png" else im.convert("RGB")
        np.asarray(expected).tofile(OUT / f"{name}.rgb")
    (OUT / "images.json").write_text(json.dumps(meta, indent=1) + "\n")
    # Big enough for the Caffe recipe to upscale little; PyTorch's top-1 is clear (pinwheel).
    Image.fromarray(picture(240, 180), "RGB").save(OUT / "picture-240x180.png", optimize=True)
    print(f"wrote {len(files) + 1} images to {OUT}")


if __name__ == "__main__":
    main()
