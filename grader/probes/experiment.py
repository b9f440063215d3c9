"""Probes for the experiment exercise: run the student's training code on models and data we build.

`train`, `evaluate` and `compare_skip` take models and DataLoaders, which cannot
cross the process boundary; `plot_histories` writes a file in the student's
scratch folder. So the judge sends plain data (arrays, numbers) and a probe
builds the model (`small_cnn`, grader code, so the judge can build the very same
one) and the loaders beside the student's code, calls the student's function
and reports what came back, plus what it measured itself (held-out accuracy,
whether the model's state changed, what the saved figure contained).

The "judge side" functions at the end help suites call these probes and read
what they return.
"""

from __future__ import annotations

import dataclasses
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from grader.probes import probe

#: Largest plot file read back (bytes): a real PNG of a loss curve is far smaller.
MAX_PLOT_BYTES = 8 * 1024 * 1024
#: What `run_conclusions` reports for a name the student's module does not define.
MISSING = "<missing>"
#: The networks a RUN records and its CONCLUSIONS compare.
NETWORKS = ("residual", "plain")
#: CONCLUSIONS' keys, each with the kind of value it holds (experiment.py's comment says what each means).
CONCLUSION_KINDS = {"first_epoch_gap": "a number", "last_epoch_gap": "a number",
                    "fell_further": '"residual", "plain" or "tie"', "ahead_from_epoch": "an epoch (int) or None",
                    "rose_at": 'a dict {"residual": [epochs], "plain": [epochs]}',
                    "higher_accuracy": '"residual", "plain" or "tie"'}


# -- models and data, built the same way on both sides -----------------------------------


def small_cnn(num_classes: int = 10, width: int = 8, seed: int = 0, dropout: float = 0.3) -> nn.Module:
    """conv-BN-ReLU-pool, conv-BN-ReLU, GAP, dropout, linear: BatchNorm and dropout make train mode matter.

    Built after `torch.manual_seed(seed)`, and its BatchNorm running statistics are
    set from the same seed, so eval mode differs from train mode from the start.
    """
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(2 * width, num_classes),
    )
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return model


def loader(images: np.ndarray, labels: np.ndarray, batch_size: int, *, shuffle: bool = False):
    """A DataLoader over the arrays (shuffled from torch's global generator when asked)."""
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(np.asarray(images, dtype=np.float32)),
                                             torch.from_numpy(np.asarray(labels, dtype=np.int64)))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Held-out accuracy measured by the grader: eval mode, argmax of the logits."""
    model.eval()
    with torch.no_grad():
        predictions = model(torch.from_numpy(np.asarray(images, dtype=np.float32))).argmax(dim=1).numpy()
    return float(np.mean(predictions == np.asarray(labels)))


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def _same_state(before: dict[str, torch.Tensor], model: nn.Module) -> bool:
    after = model.state_dict()
    return all(torch.equal(before[key], after[key]) for key in before)


def _plain_history(value: Any) -> Any:
    """What the student returned, with tensors described by name and shape (they do not cross)."""
    if type(value) in (list, tuple):
        return type(value)(_plain_history(item) for item in value)
    if type(value) is dict:
        return {key: _plain_history(item) for key, item in value.items()}
    if isinstance(value, torch.Tensor):
        return f"<torch.Tensor of shape {tuple(value.shape)}>"
    return value


# -- probes (student side) ----------------------------------------------------------------


@probe
def run_train(module: Any, case: dict) -> dict:
    """`train(small_cnn, loader, epochs, lr, seed)`; the model's held-out accuracy afterwards.

    case: "model" {num_classes, width, seed, dropout}, "images"/"labels" and
    "batch_size", "shuffle", "epochs", "lr", "seed"; optional "eval_first" (hand
    the model over in eval mode), "scramble" (reseed torch's generator with this
    before the call, so an unseeded train sees a different state), "held_out"
    (images, labels).

    Returns {"losses": what train returned, "accuracy": held-out accuracy or None,
    "statistics_updated": whether BatchNorm's running statistics changed (they do
    only in train mode)}.
    """
    torch.set_num_threads(1)
    model = small_cnn(**case["model"])
    if case.get("eval_first"):
        model.eval()
    statistics = [b.clone() for name, b in model.named_buffers() if name.endswith("running_mean")]
    data = loader(case["images"], case["labels"], case["batch_size"], shuffle=case["shuffle"])
    if case.get("scramble") is not None:
        torch.manual_seed(case["scramble"])
    losses = module.train(model, data, case["epochs"], case["lr"], case["seed"])
    after = [b for name, b in model.named_buffers() if name.endswith("running_mean")]
    held_out = case.get("held_out")
    return {"losses": _plain_history(losses),
            "accuracy": None if held_out is None else accuracy(model, *held_out),
            "statistics_updated": not all(torch.equal(a, b) for a, b in zip(statistics, after))}


@probe
def run_evaluate(module: Any, case: dict) -> dict:
    """`evaluate(small_cnn in train mode, loader)`; whether the model's weights or statistics changed.

    case: "model" {num_classes, width, seed}, "images", "labels", "batch_size".
    """
    torch.set_num_threads(1)
    model = small_cnn(**case["model"])
    model.train()
    before = _state(model)
    torch.manual_seed(0)
    result = module.evaluate(model, loader(case["images"], case["labels"], case["batch_size"]))
    return {"accuracy": _plain_history(result), "state_unchanged": _same_state(before, model)}


@probe
def run_compare_skip(module: Any, case: dict) -> dict:
    """`compare_skip(train loader, test loader, **options)`, and the same recipe run step by step.

    case: "train" (images, labels), "test" (images, labels), "batch_size", "options"
    (epochs, lr, seed, num_classes, width, blocks).

    Returns {"result": what compare_skip returned, "recipe": {name: {"loss", "accuracy"}}
    from the student's own make_resnet, train and evaluate, called as the docstring
    says}, so compare_skip's own logic can be judged apart from train's.
    """
    torch.set_num_threads(1)
    options = case["options"]
    train_data = loader(*case["train"], case["batch_size"], shuffle=True)
    test_data = loader(*case["test"], case["batch_size"])
    result = _plain_history(module.compare_skip(train_data, test_data, **options))
    recipe = {}
    for name, skip in (("residual", True), ("plain", False)):
        torch.manual_seed(options["seed"])
        model = module.make_resnet(options["num_classes"], skip=skip, width=options["width"], blocks=options["blocks"])
        losses = module.train(model, train_data, options["epochs"], options["lr"], options["seed"])
        recipe[name] = {"loss": _plain_history(losses), "accuracy": _plain_history(module.evaluate(model, test_data))}
    return {"result": result, "recipe": recipe}


@probe
def run_plot(module: Any, histories: dict, filename: str) -> dict:
    """`plot_histories(histories, path)` with a fresh path; what every saved figure showed, and the file.

    Figures are recorded when saved (`Figure.savefig`, which `pyplot.savefig`
    calls too), so what is reported is what went into the file.

    Returns {"figures": [figure facts, one per savefig], "file": uint8 array of the
    file's bytes, or None when no file was written, "file_size": its size}.
    """
    from matplotlib.figure import Figure

    folder = Path(tempfile.mkdtemp(prefix="plot-", dir=os.getcwd()))
    path = folder / filename
    saved: list[dict] = []
    original = Figure.savefig

    def recording_savefig(figure, *args, **kwargs):
        saved.append(_figure_facts(figure))
        return original(figure, *args, **kwargs)

    Figure.savefig = recording_savefig
    try:
        module.plot_histories(histories, str(path))
    finally:
        Figure.savefig = original
    size = path.stat().st_size if path.is_file() else None
    data = None
    if size is not None and size <= MAX_PLOT_BYTES:
        data = np.frombuffer(path.read_bytes(), dtype=np.uint8).copy()
    return {"figures": saved, "file": data, "file_size": size}


@probe
def run_conclusions(module: Any) -> dict:
    """The module's `RUN` and `CONCLUSIONS` as plain data ("<missing>" for a name it does not define)."""
    return {name: _plain_history(getattr(module, name, MISSING)) for name in ("RUN", "CONCLUSIONS")}


def _figure_facts(figure: Any) -> dict:
    legends = [text.get_text() for legend in figure.legends for text in legend.get_texts()]
    axes = []
    for ax in figure.get_axes():
        legend = ax.get_legend()
        axes.append({
            "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(), "title": ax.get_title(),
            "legend": [text.get_text() for text in legend.get_texts()] if legend is not None else [],
            "lines": [{"label": str(line.get_label()),
                       "x": np.asarray(line.get_xdata(), dtype=np.float64),
                       "y": np.asarray(line.get_ydata(), dtype=np.float64)} for line in ax.get_lines()],
        })
    return {"axes": axes, "figure_legend": legends}


# -- judge side -------------------------------------------------------------------------------


def ask(student: Any, name: str, description: str, *args: Any) -> Any:
    """Run the probe `experiment.<name>`; the feedback's "call:" line then reads `description`."""
    try:
        return student.probe(f"experiment.{name}", *args)
    finally:
        if student.last_call is not None:
            function = description.partition("(")[0]
            student.last_call = dataclasses.replace(student.last_call, function=function, description=description)


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


def read_answers(student: Any) -> tuple[dict, dict]:
    """The student's RUN and CONCLUSIONS, each checked (`read_run`, `read_conclusions`).

    The stub's None (or a name left out) is "not implemented yet", named once per test in one line.
    """
    from grader.student import NotImplementedYet

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
    from grader.checks import Mismatch
    from grader.describe import describe_value

    paste = "run `grader experiment` and paste the RUN = {...} it prints at the end"
    if run is None or _missing(run):
        raise Mismatch(f"RUN is {'None' if run is None else 'not defined'}: there is no run to read",
                       expected="the record of your run", hint=paste)
    if not isinstance(run, dict) or not all(name in run for name in NETWORKS):
        raise Mismatch("RUN is not the record `grader experiment` prints", expected="a dict with keys "
                       "'residual' and 'plain'", got=describe_value(run), hint=paste)
    histories = {}
    for name in NETWORKS:
        history = run[name] if isinstance(run[name], dict) else {}
        losses = history.get("loss")
        if not isinstance(losses, (list, tuple)) or len(losses) < 2 or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x) for x in losses):
            raise Mismatch(f"RUN[{name!r}]['loss'] is not a list of losses, one per epoch",
                           expected="at least 2 finite numbers", got=describe_value(losses), hint=paste)
        accuracy = history.get("accuracy")
        if not isinstance(accuracy, (int, float)) or isinstance(accuracy, bool) or not 0 <= accuracy <= 1:
            raise Mismatch(f"RUN[{name!r}]['accuracy'] is not a test accuracy",
                           expected="a fraction in [0, 1]", got=describe_value(accuracy), hint=paste)
        histories[name] = ([float(x) for x in losses], float(accuracy))
    if len(histories["residual"][0]) != len(histories["plain"][0]):
        raise Mismatch("RUN's two networks did not train for the same number of epochs",
                       expected="as many losses for 'residual' as for 'plain'",
                       got=f"{len(histories['residual'][0])} and {len(histories['plain'][0])}", hint=paste)
    return histories


def read_conclusions(conclusions: Any) -> dict:
    """The student's CONCLUSIONS, checked to hold every statement in its kind; returned as they are."""
    from grader.checks import Mismatch
    from grader.describe import describe_value

    if not isinstance(conclusions, dict):
        what = "not defined" if _missing(conclusions) else describe_value(conclusions)
        raise Mismatch(f"CONCLUSIONS is {what}: state what your run shows",
                       expected="a dict with the keys " + ", ".join(CONCLUSION_KINDS),
                       hint="the comment above CONCLUSIONS in experiment.py says what each key means")
    missing = [key for key in CONCLUSION_KINDS if key not in conclusions]
    if missing:
        raise Mismatch(f"CONCLUSIONS does not say {', '.join(missing)}",
                       expected="; ".join(f"{key}: {CONCLUSION_KINDS[key]}" for key in missing))
    wrong = [key for key, value in conclusions.items() if key in CONCLUSION_KINDS and not _of_kind(key, value)]
    if wrong:
        raise Mismatch(f"CONCLUSIONS[{wrong[0]!r}] is not {CONCLUSION_KINDS[wrong[0]]}",
                       got=describe_value(conclusions[wrong[0]]))
    return conclusions


def _of_kind(key: str, value: Any) -> bool:
    if key.endswith("_gap"):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))
    if key == "ahead_from_epoch":
        return value is None or (type(value) is int and value >= 1)
    if key == "rose_at":
        return (isinstance(value, dict) and set(value) == set(NETWORKS)
                and all(isinstance(v, (list, tuple)) and all(type(e) is int for e in v) for v in value.values()))
    return isinstance(value, str) and value in (*NETWORKS, "tie")


def _missing(value: Any) -> bool:
    return isinstance(value, str) and value == MISSING
