"""Procedural stand-in faces in CelebA's on-disk layout, for running the CelebA chapter offline.

These are cartoon faces drawn with PIL, NOT CelebA. ``write_standin`` writes what
:func:`vaemi_nb.data.load_celeba` reads (178x218 JPEGs, list_attr_celeba.txt in the real format,
list_eval_partition.txt split 80/10/10 by index) plus ``STANDIN.txt`` saying what this is and
``standin_factors.csv`` with the generating factors.

Factors, all drawn independently per image:

* Smiling (p = 1/2): smile amount in [0.6, 1] (curved, open mouth with teeth) or [0, 0.25]
  (an almost flat line); the amount sets the mouth's curvature.
* Eyeglasses (p = 1/2): two dark rings, a bridge and temples.
* Hair colour: exactly one of Black_Hair / Blond_Hair / Brown_Hair / Gray_Hair (p = 1/4 each).
* Pale_Skin: skin tone uniform in [0, 1] (dark to light); the attribute is the lightest third.
* Male (p = 1/2): short hair hugging the head; otherwise long hair falling to the shoulders.
* Bangs (p = 1/2): a fringe covering the forehead down to the eyebrows.
* Continuous, not in the attribute file: yaw in [-1, 1] (eyes, nose and mouth shift within the
  face oval, the oval shifts less) and background hue in [0, 1).

All other 34 attributes are -1. Faces sit where aligned CelebA faces sit (centred, eyes at
y ~ 110 of 218), so the 148-px centre crop keeps them. A 3x3 box blur, pixel noise (sd 5 grey
levels) and JPEG compression keep the images from being trivially clean.
"""
from __future__ import annotations

import colorsys
import functools
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ._common import default_root
from .celeba import CELEBA_ATTRIBUTES

W, H = 178, 218
EYE_Y, MOUTH_Y = 110, 146
HAIR_NAMES = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")
HAIR_RGB = np.array([(30, 25, 25), (222, 190, 115), (110, 68, 38), (168, 168, 168)], float)
DARK_SKIN, LIGHT_SKIN = np.array([118, 78, 56], float), np.array([250, 224, 206], float)
VARIED = ("Smiling", "Eyeglasses", *HAIR_NAMES, "Pale_Skin", "Male", "Bangs")
MARKER = "STANDIN.txt"


def draw_factors(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The generating factors of n faces, each an (n,) array; independent draws."""
    rng = np.random.default_rng(seed)
    smiling = rng.random(n) < 0.5
    return {
        "yaw": rng.uniform(-1, 1, n),
        "skin_tone": rng.random(n),
        "background_hue": rng.random(n),
        "smile_amount": np.where(smiling, rng.uniform(0.6, 1.0, n), rng.uniform(0.0, 0.25, n)),
        "hair_colour_index": rng.integers(0, 4, n),
        "male": rng.random(n) < 0.5,
        "eyeglasses": rng.random(n) < 0.5,
        "bangs": rng.random(n) < 0.5,
        "hair_jitter": rng.uniform(-12, 12, (n, 3)),
        "noise_offset": rng.integers(0, (H, W), (n, 2)),
    }


@functools.lru_cache(maxsize=2)
def _noise_bank(seed: int) -> np.ndarray:
    """(2H, 2W, 3) float32 Gaussian noise, sd 5 grey levels; each face takes a window of it."""
    return np.random.default_rng([seed, 1]).standard_normal((2 * H, 2 * W, 3), dtype=np.float32) * 5


def attributes(f: dict[str, np.ndarray]) -> np.ndarray:
    """(n, 40) int8 of +-1 in CELEBA_ATTRIBUTES order; attributes not drawn are -1."""
    n = len(f["yaw"])
    on = {"Smiling": f["smile_amount"] > 0.5, "Eyeglasses": f["eyeglasses"], "Male": f["male"],
          "Bangs": f["bangs"], "Pale_Skin": f["skin_tone"] > 2 / 3}
    on |= {name: f["hair_colour_index"] == k for k, name in enumerate(HAIR_NAMES)}
    out = -np.ones((n, len(CELEBA_ATTRIBUTES)), np.int8)
    for name, mask in on.items():
        out[mask, CELEBA_ATTRIBUTES.index(name)] = 1
    return out


def draw_face(f: dict[str, np.ndarray], i: int, seed: int = 0) -> Image.Image:
    """Face i of the factor table as a 178x218 RGB image (deterministic in seed and i)."""
    yaw, smile = float(f["yaw"][i]), float(f["smile_amount"][i])
    skin = tuple(int(c) for c in DARK_SKIN + f["skin_tone"][i] * (LIGHT_SKIN - DARK_SKIN))
    hair = tuple(int(c) for c in np.clip(HAIR_RGB[f["hair_colour_index"][i]] + f["hair_jitter"][i], 0, 255))
    shade = tuple(int(c * 0.8) for c in skin)
    bg = tuple(int(255 * c) for c in colorsys.hsv_to_rgb(float(f["background_hue"][i]), 0.45, 0.8))

    im = Image.new("RGB", (W, H), bg)
    d = ImageDraw.Draw(im)
    cx = W / 2 + 5 * yaw              # face oval centre moves a little with yaw ...
    fx = W / 2 + 12 * yaw             # ... the features move more
    face = (cx - 40, 62, cx + 40, 170)
    d.ellipse((14, 190, W - 14, 290), fill=(70, 72, 80))                # shoulders
    if not f["male"][i]:
        d.rounded_rectangle((cx - 52, 56, cx + 52, 206), radius=40, fill=hair)  # long hair
    d.rectangle((cx - 15, 150, cx + 15, 200), fill=shade)               # neck
    d.ellipse((cx - 45, 50, cx + 45, 140), fill=hair)                   # hair on the head
    d.ellipse(face, fill=skin)
    if f["bangs"][i]:
        d.chord(face, 200, 340, fill=hair)                             # fringe down to y ~ 99
    for side in (-1, 1):
        ex = fx + 17 * side
        d.line((ex - 8, EYE_Y - 10, ex + 8, EYE_Y - 11), fill=(60, 40, 30), width=3)  # eyebrow
        d.ellipse((ex - 8, EYE_Y - 4, ex + 8, EYE_Y + 4), fill=(245, 245, 240))
        d.ellipse((ex - 3 + 2 * yaw, EYE_Y - 3, ex + 3 + 2 * yaw, EYE_Y + 3), fill=(35, 30, 40))
    nx = W / 2 + 16 * yaw
    d.line((nx, EYE_Y + 4, nx + 3, EYE_Y + 24, nx - 4, EYE_Y + 26), fill=shade, width=3)  # nose
    sag = 2 + 14 * smile                                                 # mouth curvature, px
    box = (fx - 17, MOUTH_Y - sag, fx + 17, MOUTH_Y + sag)
    if smile > 0.5:
        d.chord(box, 0, 180, fill=(120, 30, 40))                         # open smile ...
        d.chord((box[0] + 4, MOUTH_Y - 2, box[2] - 4, MOUTH_Y + sag / 2), 0, 180, fill=(240, 240, 235))
    else:
        d.arc(box, 20, 160, fill=(150, 60, 60), width=3)                 # ... or a near-flat line
    if f["eyeglasses"][i]:
        for side in (-1, 1):
            ex = fx + 17 * side
            d.ellipse((ex - 12, EYE_Y - 9, ex + 12, EYE_Y + 9), outline=(20, 20, 25), width=3)
            d.line((ex + 12 * side, EYE_Y - 2, cx + 41 * side, EYE_Y - 4), fill=(20, 20, 25), width=2)
        d.line((fx - 5, EYE_Y - 2, fx + 5, EYE_Y - 2), fill=(20, 20, 25), width=2)

    im = im.filter(ImageFilter.BoxBlur(1))
    y, x = f["noise_offset"][i]
    noise = _noise_bank(seed)[y:y + H, x:x + W]
    return Image.fromarray(np.clip(np.asarray(im) + noise, 0, 255).astype(np.uint8))


def _name(i: int) -> str:
    return f"{i + 1:06d}.jpg"


def write_standin(root: str | Path, n_images: int = 6000, *, seed: int = 0) -> Path:
    """Write n_images stand-in faces in CelebA's layout under root; returns root.

    Byte-identical for the same (n_images, seed); a different n_images draws different faces.

    Refuses (FileExistsError) to write into a folder that holds images but no STANDIN.txt,
    so real CelebA is never overwritten. ~2 ms per image.
    """
    root = Path(root)
    img_dir = root / "img_align_celeba"
    if img_dir.is_dir() and not (root / MARKER).is_file() and any(img_dir.glob("*.jpg")):
        raise FileExistsError(f"{img_dir} holds images but {root / MARKER} is missing: this looks like "
                              "real CelebA; choose an empty folder for the stand-in")
    if n_images < 10:
        raise ValueError(f"n_images must be at least 10 (for the 80/10/10 split), got {n_images}")
    (root / MARKER).unlink(missing_ok=True)  # written last: its presence means complete
    shutil.rmtree(root / "cache", ignore_errors=True)
    img_dir.mkdir(parents=True, exist_ok=True)
    names = [_name(i) for i in range(n_images)]
    for old in set(p.name for p in img_dir.glob("*.jpg")) - set(names):
        (img_dir / old).unlink()

    f = draw_factors(n_images, seed)
    for i, name in enumerate(names):
        draw_face(f, i, seed).save(img_dir / name, quality=90)

    attrs = attributes(f)
    rows = (name + " " + " ".join(f"{v:2d}" for v in row) for name, row in zip(names, attrs))
    text = f"{n_images}\n" + " ".join(CELEBA_ATTRIBUTES) + " \n" + "\n".join(rows) + "\n"
    (root / "list_attr_celeba.txt").write_bytes(text.replace("\n", "\r\n").encode())
    cuts = (int(0.8 * n_images), int(0.9 * n_images))
    part = "".join(f"{name} {int(i >= cuts[0]) + int(i >= cuts[1])}\r\n" for i, name in enumerate(names))
    (root / "list_eval_partition.txt").write_bytes(part.encode())
    floats, flags = ("yaw", "skin_tone", "background_hue", "smile_amount"), ("male", "eyeglasses", "bangs")
    lines = ["image_id," + ",".join(floats) + ",hair_colour_index,hair_colour," + ",".join(flags)]
    for i, name in enumerate(names):
        hair = int(f["hair_colour_index"][i])
        vals = [f"{f[c][i]:.4f}" for c in floats] + [str(hair), HAIR_NAMES[hair]]
        lines.append(f"{name}," + ",".join(vals + [str(int(f[c][i])) for c in flags]))
    (root / "standin_factors.csv").write_text("\n".join(lines) + "\n")
    (root / MARKER).write_text(
        "PROCEDURAL STAND-IN FACES, NOT CelebA.\n"
        "Cartoon faces drawn by vaemi_nb.data.celeba_standin.write_standin in CelebA's file layout, so that\n"
        "the CelebA chapter runs offline. Varied attributes: " + ", ".join(VARIED) + ";\n"
        "continuous factors (standin_factors.csv): yaw, skin tone, background hue, smile amount.\n"
        "All other attributes are -1. Split 80/10/10 by index (list_eval_partition.txt).\n"
        f"n_images={n_images}\nseed={seed}\n")
    return root


def ensure_standin(root: str | Path | None = None, n_images: int = 6000, seed: int = 0) -> Path:
    """The stand-in under root (default default_root()/"celeba-standin"), written only if not complete."""
    root = Path(root) if root is not None else default_root() / "celeba-standin"
    marker = root / MARKER
    if marker.is_file():
        lines = marker.read_text().splitlines()
        same = f"n_images={n_images}" in lines and f"seed={seed}" in lines
        if same and len(list((root / "img_align_celeba").glob("*.jpg"))) == n_images:
            return root
    return write_standin(root, n_images, seed=seed)
