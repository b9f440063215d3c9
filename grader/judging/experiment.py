"""The judge's side of the experiment probes: reading what the student's training code returned and saved."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import numpy as np

from grader.checks import Mismatch
from grader.describe import describe_value
from grader.engine.student import NotImplementedYet
from grader.judging import asker
from grader.probes.experiment import MISSING

#: The networks a RUN records and its CONCLUSIONS compare.
NETWORKS = ("residual", "plain")
#: CONCLUSIONS' keys, each with the kind of value it holds (experiment.py's comment says what each means).
CONCLUSION_KINDS = {
    "first_epoch_gap": "a number",
    "last_epoch_gap": "a number",
    "fell_further": '"residual", "plain" or "tie"',
    "ahead_from_epoch": "an epoch (int) or None",
    "rose_at": 'a dict {"residual": [epochs], "plain": [epochs]}',
    "higher_accuracy": '"residual", "plain" or "tie"',
}

#: `ask(student, name, description, *args)`: the probe `experiment.<name>`, the call shown as `description`.
ask = asker("experiment")


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
    if not isinstance(got, (list, tuple)):
        raise Mismatch(
            f"{what} returned {describe_value(got)}",
            expected=f"a list of {epochs} floats, one per epoch",
            hint="append each epoch's mean loss to a list and return the list",
        )
    tensors = [item for item in got if isinstance(item, str) and item.startswith("<torch.Tensor")]
    if tensors:
        raise Mismatch(
            f"{what} returned a list of tensors, not of Python floats",
            expected="floats such as 2.302",
            got=tensors[0],
            hint="record loss.item(): a float, which also frees the graph of the batch",
        )
    if len(got) != epochs or not all(isinstance(item, (int, float, np.floating)) for item in got):
        raise Mismatch(
            f"{what} should return one loss per epoch", expected=f"{epochs} floats", got=describe_value(list(got))
        )
    losses = [float(item) for item in got]
    bad = next((epoch for epoch, loss in enumerate(losses, start=1) if not np.isfinite(loss)), None)
    if bad is not None:
        raise Mismatch(
            f"{what}: the loss became {losses[bad - 1]} in epoch {bad}",
            got=describe_value(losses),
            hint="a learning rate that is too high, or a wrong loss",
        )
    return losses


def read_answers(student: Any) -> tuple[dict, dict]:
    """The student's RUN and CONCLUSIONS, each checked (`read_run`, `read_conclusions`).

    The stub's None (or a name left out) is "not implemented yet", named once per test in one line.
    """
    got = ask(student, "run_conclusions", "experiment.RUN and experiment.CONCLUSIONS")
    for name in ("RUN", "CONCLUSIONS"):
        if got[name] is None or _missing(got[name]):
            student.last_call = dataclasses.replace(student.last_call, function=name, description=name)
            raise NotImplementedYet(f"{name} is {'None' if got[name] is None else 'not defined'}")
    return read_run(got["RUN"]), read_conclusions(got["CONCLUSIONS"])


def read_run(run: Any) -> dict:
    """The student's RUN, checked to be a record of a run: {name: {"loss": [floats], "accuracy": float}}.

    Raises Mismatch naming what is missing or malformed; returns {name: (losses, accuracy)}.
    """
    paste = "run `grader experiment` and paste the RUN = {...} it prints at the end"
    if run is None or _missing(run):
        raise Mismatch(
            f"RUN is {'None' if run is None else 'not defined'}: there is no run to read",
            expected="the record of your run",
            hint=paste,
        )
    if not isinstance(run, dict) or not all(name in run for name in NETWORKS):
        raise Mismatch(
            "RUN is not the record `grader experiment` prints",
            expected="a dict with keys 'residual' and 'plain'",
            got=describe_value(run),
            hint=paste,
        )
    histories = {}
    for name in NETWORKS:
        history = run[name] if isinstance(run[name], dict) else {}
        losses = history.get("loss")
        if (
            not isinstance(losses, (list, tuple))
            or len(losses) < 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x) for x in losses)
        ):
            raise Mismatch(
                f"RUN[{name!r}]['loss'] is not a list of losses, one per epoch",
                expected="at least 2 finite numbers",
                got=describe_value(losses),
                hint=paste,
            )
        accuracy = history.get("accuracy")
        if not isinstance(accuracy, (int, float)) or isinstance(accuracy, bool) or not 0 <= accuracy <= 1:
            raise Mismatch(
                f"RUN[{name!r}]['accuracy'] is not a test accuracy",
                expected="a fraction in [0, 1]",
                got=describe_value(accuracy),
                hint=paste,
            )
        histories[name] = ([float(x) for x in losses], float(accuracy))
    if len(histories["residual"][0]) != len(histories["plain"][0]):
        raise Mismatch(
            "RUN's two networks did not train for the same number of epochs",
            expected="as many losses for 'residual' as for 'plain'",
            got=f"{len(histories['residual'][0])} and {len(histories['plain'][0])}",
            hint=paste,
        )
    return histories


def read_conclusions(conclusions: Any) -> dict:
    """The student's CONCLUSIONS, checked to hold every statement in its kind; returned as they are."""
    if not isinstance(conclusions, dict):
        what = "not defined" if _missing(conclusions) else describe_value(conclusions)
        raise Mismatch(
            f"CONCLUSIONS is {what}: state what your run shows",
            expected="a dict with the keys " + ", ".join(CONCLUSION_KINDS),
            hint="the comment above CONCLUSIONS in experiment.py says what each key means",
        )
    missing = [key for key in CONCLUSION_KINDS if key not in conclusions]
    if missing:
        raise Mismatch(
            f"CONCLUSIONS does not say {', '.join(missing)}",
            expected="; ".join(f"{key}: {CONCLUSION_KINDS[key]}" for key in missing),
        )
    wrong = [key for key, value in conclusions.items() if key in CONCLUSION_KINDS and not _of_kind(key, value)]
    if wrong:
        raise Mismatch(
            f"CONCLUSIONS[{wrong[0]!r}] is not {CONCLUSION_KINDS[wrong[0]]}", got=describe_value(conclusions[wrong[0]])
        )
    return conclusions


def _of_kind(key: str, value: Any) -> bool:
    if key.endswith("_gap"):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))
    if key == "ahead_from_epoch":
        return value is None or (type(value) is int and value >= 1)
    if key == "rose_at":
        return (
            isinstance(value, dict)
            and set(value) == set(NETWORKS)
            and all(isinstance(v, (list, tuple)) and all(type(e) is int for e in v) for v in value.values())
        )
    return isinstance(value, str) and value in (*NETWORKS, "tie")


def _missing(value: Any) -> bool:
    return isinstance(value, str) and value == MISSING
