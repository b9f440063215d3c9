"""Public tests for exercises/experiment.py: your training loop on a small network we build.

Run them with `grader grade experiment --public-only`. Models and DataLoaders
cannot leave your process, so each test sends plain arrays to a probe
(grader/probes/experiment.py) that builds `small_cnn` and the loaders there,
calls your function, and reports back what it returned.
"""

import numpy as np
import pytest

from grader.suite import Mismatch, accuracy, expect_losses, read_answers, read_png, small_cnn
from grader.suite import ask_experiment as ask


def colour_task(n, seed):
    """Three classes: the class's colour channel is brighter. (images (n, 3, 8, 8), labels (n,))"""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    images = rng.standard_normal((n, 3, 8, 8)).astype(np.float32)
    images[np.arange(n), labels] += 1.0
    return images, labels.astype(np.int64)


@pytest.mark.points(1)
@pytest.mark.hint("for each epoch: for each batch, zero_grad, loss, backward, step; append the epoch's mean loss")
def test_train_returns_a_falling_loss_per_epoch(student):
    """train returns one loss per epoch, and the loss falls"""
    images, labels = colour_task(96, seed=0)
    case = {
        "model": {"num_classes": 3, "width": 4, "seed": 0},
        "images": images,
        "labels": labels,
        "batch_size": 32,
        "shuffle": True,
        "epochs": 3,
        "lr": 0.1,
        "seed": 0,
    }
    got = ask(
        student, "run_train", "train(small_cnn(3 classes), 3 batches of 32 images 8x8, epochs=3, lr=0.1, seed=0)", case
    )
    losses = expect_losses(got["losses"], 3)
    if not losses[-1] < losses[0]:
        raise Mismatch(
            "the loss did not fall",
            expected="the last epoch's loss below the first's",
            got=f"{losses}",
            hint="is optimizer.step() called after loss.backward()?",
        )


@pytest.mark.points(1)
@pytest.mark.hint("in eval mode, accuracy = correct predictions / samples, a prediction being the argmax of the logits")
def test_evaluate_is_the_fraction_of_correct_predictions(student):
    """evaluate returns the fraction of samples whose highest logit is their label"""
    images, labels = colour_task(48, seed=1)
    model = {"num_classes": 3, "width": 4, "seed": 3}
    got = ask(
        student,
        "run_evaluate",
        "evaluate(small_cnn(3 classes) in train mode, 3 batches of 16 images)",
        {"model": model, "images": images, "labels": labels, "batch_size": 16},
    )
    expected = accuracy(small_cnn(**model), images, labels)
    expect_accuracy(got["accuracy"], expected, f"{round(expected * 48)} of 48 correct")


def expect_accuracy(got, expected, count):
    if not isinstance(got, (int, float)) or abs(got - expected) > 1e-6:
        why = (
            ("a value above 1: return a fraction, not a percentage",)
            if isinstance(got, (int, float)) and got > 1
            else ()
        )
        raise Mismatch(
            "evaluate returned the wrong accuracy", expected=f"{expected:.4f} ({count})", got=f"{got!r}", details=why
        )


@pytest.mark.points(1)
@pytest.mark.hint("return {'residual': {'loss': [...], 'accuracy': ...}, 'plain': {...}}")
def test_compare_skip_returns_both_histories(student):
    """compare_skip returns a history (losses and accuracy) for the residual and the plain network"""
    images, labels = colour_task(64, seed=2)
    options = {"epochs": 2, "lr": 0.05, "seed": 0, "num_classes": 3, "width": 4, "blocks": (1, 1)}
    case = {
        "train": (images[:48], labels[:48]),
        "test": (images[48:], labels[48:]),
        "batch_size": 16,
        "options": options,
    }
    got = ask(
        student,
        "run_compare_skip",
        "compare_skip(48 training images, 16 test images, epochs=2, lr=0.05, "
        "seed=0, num_classes=3, width=4, blocks=(1, 1))",
        case,
    )["result"]
    if not isinstance(got, dict) or sorted(got) != ["plain", "residual"]:
        raise Mismatch(
            "compare_skip should return a dict with two histories",
            expected="keys 'plain' and 'residual'",
            got=f"{sorted(got) if isinstance(got, dict) else got!r}",
        )
    for name in ("residual", "plain"):
        history = got[name]
        if not isinstance(history, dict) or "loss" not in history or "accuracy" not in history:
            raise Mismatch(f"the {name!r} history should be a dict with 'loss' and 'accuracy'", got=f"{history!r}")
        expect_losses(history["loss"], 2, what=f"compare_skip's {name!r} history")
        if not isinstance(history["accuracy"], float) or not 0 <= history["accuracy"] <= 1:
            raise Mismatch(f"the {name!r} accuracy should be a float in [0, 1]", got=f"{history['accuracy']!r}")


@pytest.mark.points(1)
@pytest.mark.hint("figure.savefig(path) writes the PNG; a Figure of about 6x4 inches at 100 dpi is 600x400")
def test_plot_histories_writes_a_png(student):
    """plot_histories writes a PNG file that opens as an image of a sensible size"""
    histories = {
        "residual": {"loss": [2.3, 1.2, 0.7], "accuracy": 0.8},
        "plain": {"loss": [2.3, 1.8, 1.5], "accuracy": 0.6},
    }
    got = ask(
        student, "run_plot", "plot_histories({'residual': ..., 'plain': ...}, 'curves.png')", histories, "curves.png"
    )
    if got["file"] is None:
        where = "no file was written" if got["file_size"] is None else f"the file has {got['file_size']} bytes"
        raise Mismatch(f"plot_histories did not write a plot to the path it was given: {where}")
    image = read_png(got["file"])
    if "error" in image:
        raise Mismatch(image["error"], expected="a PNG image", hint="save with format 'png' (the path ends in .png)")
    if not (200 <= image["width"] <= 4000 and 150 <= image["height"] <= 4000):
        raise Mismatch(
            "the image has an odd size for a plot",
            expected="200 to 4000 pixels wide, 150 to 4000 high",
            got=f"{image['width']}x{image['height']}",
        )
    if image["colours"] < 3:
        raise Mismatch("the image is blank", got=f"{image['colours']} colour(s) in the whole image")


@pytest.mark.points(1)
@pytest.mark.section("Practice Exercises")
@pytest.mark.hint("paste the RUN = {...} that `grader experiment` prints; fill in every key of CONCLUSIONS")
def test_run_and_conclusions_are_filled_in(student):
    """RUN is the record of a run, and CONCLUSIONS states every conclusion in its kind

    The hidden tests read each conclusion against RUN's numbers.
    """
    read_answers(student)
