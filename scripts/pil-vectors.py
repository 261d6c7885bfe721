#!/usr/bin/python3
"""Write test/data/pil-vectors.json: what PIL and torchvision make of synthetic images.

test/preprocess.test.ts rebuilds the same images from the same formulas and checks that
resizeBilinear and preprocess give the same bytes (CRC-32 of the RGB bytes, or of the
little-endian float32 tensor). The images are pure formulas, so nothing but numbers is
committed. Run with the Debian PIL and torchvision:  /usr/bin/python3 scripts/pil-vectors.py
"""

import json
import zlib
from pathlib import Path

import numpy as np
import PIL
import torchvision
import torchvision.transforms as T
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "test" / "data" / "pil-vectors.json"


def image(pattern, w, h):
    """RGB uint8, h x w x 3. Keep in step with pixels() in test/preprocess.test.ts."""
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    chans = []
    for c in range(3):
        if pattern == "noise":  # an LCG-style hash: every pixel unlike its neighbours
            v = ((x * 1103515245 + y * 12345 + c * 2654435) & 0xFFFFFFFF) >> 16
        elif pattern == "smooth":  # ramps that wrap: smooth areas with sharp edges
            v = x * (3 + c) + y * (5 + 2 * c)
        elif pattern == "grey":  # the same in every channel
            v = x * 7 + y * 3 + ((x // 4 + y // 4) % 2) * 101
        else:
            raise ValueError(pattern)
        chans.append(v & 255)
    return np.stack(chans, -1).astype(np.uint8)


RESIZE = [  # (pattern, w, h, out_w, out_h)
    ("noise", 500, 375, 256, 256), ("smooth", 375, 500, 256, 256), ("noise", 17, 13, 256, 256),
    ("noise", 1, 1, 256, 256), ("smooth", 256, 256, 256, 256), ("noise", 257, 255, 256, 256),
    ("noise", 1000, 3, 256, 256), ("smooth", 333, 251, 64, 77), ("noise", 7, 900, 5, 300),
    ("noise", 2, 2, 3, 3), ("smooth", 3, 1, 1, 1), ("noise", 1203, 803, 256, 256),
    ("grey", 401, 299, 256, 256),
]
RECIPE = [  # (pattern, w, h): both recipes
    ("noise", 500, 375), ("smooth", 375, 500), ("noise", 224, 224), ("smooth", 341, 256),
    ("noise", 256, 341), ("smooth", 1200, 300), ("noise", 13, 17), ("grey", 320, 240),
]

TORCHVISION = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                         T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])


def caffe(img):
    a = np.asarray(img.resize((256, 256), Image.BILINEAR), dtype=np.float32)[14:241, 14:241, ::-1]
    a = a - np.array((104, 117, 123), dtype=np.float32)
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def entry(kind, pattern, w, h, data, **extra):
    data = np.ascontiguousarray(data)
    return {"op": kind, "pattern": pattern, "width": w, "height": h, **extra,
            "shape": list(data.shape), "crc32": zlib.crc32(data.tobytes()),
            "sum": float(data.astype(np.float64).sum())}


def main():
    cases = []
    for pattern, w, h, ow, oh in RESIZE:
        out = np.asarray(Image.fromarray(image(pattern, w, h), "RGB").resize((ow, oh), Image.BILINEAR))
        cases.append(entry("resize", pattern, w, h, out, out=[ow, oh]))
    for pattern, w, h in RECIPE:
        img = Image.fromarray(image(pattern, w, h), "RGB")
        cases.append(entry("caffe", pattern, w, h, caffe(img).astype("<f4")))
        cases.append(entry("torchvision", pattern, w, h, TORCHVISION(img).numpy().astype("<f4")))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"generator": "scripts/pil-vectors.py", "pil": PIL.__version__,
                               "torchvision": torchvision.__version__, "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
