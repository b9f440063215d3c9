"""Probes for the experiment exercise: run the student's training code on models and data we build.

`train`, `evaluate` and `compare_skip` take models and DataLoaders, which cannot
cross the process boundary; `plot_histories` writes a file in the student's
scratch folder. So the judge sends plain data (arrays, numbers) and a probe
builds the model (`small_cnn`, grader code, so the judge can build the very same
one) and the loaders beside the student's code, calls the student's function
and reports what came back, plus what it measured itself (held-out accuracy,
whether the model's state changed, what the saved figure contained).

`grader.judging.experiment` is their judge's side: it reads what they return.
"""

from __future__ import annotations

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


# -- models and data, built the same way on both sides -----------------------------------


def small_cnn(num_classes: int = 10, width: int = 8, seed: int = 0, dropout: float = 0.3) -> nn.Module:
    """conv-BN-ReLU-pool, conv-BN-ReLU, GAP, dropout, linear: BatchNorm and dropout make train mode matter.

    Built after `torch.manual_seed(seed)`, and its BatchNorm running statistics are
    set from the same seed, so eval mode differs from train mode from the start.
    """
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1),
        nn.BatchNorm2d(2 * width),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(2 * width, num_classes),
    )
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return model


def loader(images: np.ndarray, labels: np.ndarray, batch_size: int, *, shuffle: bool = False):
    """A DataLoader over the arrays (shuffled from torch's global generator when asked)."""
    dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(np.asarray(images, dtype=np.float32)), torch.from_numpy(np.asarray(labels, dtype=np.int64))
    )
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
    return {
        "losses": _plain_history(losses),
        "accuracy": None if held_out is None else accuracy(model, *held_out),
        "statistics_updated": not all(torch.equal(a, b) for a, b in zip(statistics, after)),
    }


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
        axes.append(
            {
                "xlabel": ax.get_xlabel(),
                "ylabel": ax.get_ylabel(),
                "title": ax.get_title(),
                "legend": [text.get_text() for text in legend.get_texts()] if legend is not None else [],
                "lines": [
                    {
                        "label": str(line.get_label()),
                        "x": np.asarray(line.get_xdata(), dtype=np.float64),
                        "y": np.asarray(line.get_ydata(), dtype=np.float64),
                    }
                    for line in ax.get_lines()
                ],
            }
        )
    return {"axes": axes, "figure_legend": legends}
