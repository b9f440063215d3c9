"""The judge's side of the experiment probes: reading what the student's training code returned and saved."""

from __future__ import annotations

import io
from typing import Any

import numpy as np


def read_png(data: np.ndarray) -> dict:
    """Decode the bytes of a PNG file in the judge: {"width", "height", "colours"} or {"error": why}."""
    from PIL import Image, UnidentifiedImageError

    raw = bytes(np.asarray(data, dtype=np.uint8))
    if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return {"error": f"the file is not a PNG (it starts with {raw[:8]!r})"}
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.width * image.height > 25_000_000:
                return {"error": f"the image is {image.width}x{image.height} pixels, far too large for a plot"}
            image.load()
            colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        return {"error": f"the PNG cannot be decoded ({error})"}
    return {"width": image.width, "height": image.height, "colours": len(colours) if colours else 1_000_000}


def expect_losses(got: Any, epochs: int, *, what: str = "train") -> list[float]:
    """`got` must be a list of `epochs` finite numbers (one mean loss per epoch); return them as floats."""
    from grader.checks import Mismatch
    from grader.describe import describe_value

    if not isinstance(got, (list, tuple)):
        raise Mismatch(f"{what} returned {describe_value(got)}", expected=f"a list of {epochs} floats, one per epoch",
                       hint="append each epoch's mean loss to a list and return the list")
    tensors = [item for item in got if isinstance(item, str) and item.startswith("<torch.Tensor")]
    if tensors:
        raise Mismatch(f"{what} returned a list of tensors, not of Python floats",
                       expected="floats such as 2.302", got=tensors[0],
                       hint="record loss.item(): a float, which also frees the graph of the batch")
    if len(got) != epochs or not all(isinstance(item, (int, float, np.floating)) for item in got):
        raise Mismatch(f"{what} should return one loss per epoch", expected=f"{epochs} floats",
                       got=describe_value(list(got)))
    losses = [float(item) for item in got]
    bad = next((epoch for epoch, loss in enumerate(losses, start=1) if not np.isfinite(loss)), None)
    if bad is not None:
        raise Mismatch(f"{what}: the loss became {losses[bad - 1]} in epoch {bad}", got=describe_value(losses),
                       hint="a learning rate that is too high, or a wrong loss")
    return losses
