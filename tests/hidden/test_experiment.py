"""Hidden suite for experiment: the submission against the reference and against measurements of our own.

Every case is tiny (a few batches of 16x16 images, a network of a few thousand
weights, a few epochs) and seeded, so the whole suite takes seconds and every
run sees the same numbers. The reference runs here, in the judge, on the same
models (`small_cnn`, grader code built from the same seed) and the same data.
"""

import numpy as np
import pytest
import torch

from grader.suite import Mismatch, accuracy, expect_losses, loader, read_answers, small_cnn
from grader.suite import ask_experiment as ask

torch.set_num_threads(1)  # the same arithmetic as the student's process, which runs on one thread

PLOT = {
    "residual": {"loss": [2.31, 1.42, 0.93, 0.61], "accuracy": 0.81},
    "plain": {"loss": [2.30, 1.97, 1.70, 1.52], "accuracy": 0.55},
    "deeper plain": {"loss": [2.33, 2.21, 2.05, 1.96], "accuracy": 0.31},
}


def synthetic(reference, n, seed, size=16):
    return reference.synthetic_images(n, size=size, seed=seed)


def train_case(reference, **changes):
    images, labels = synthetic(reference, 100, seed=11)
    case = {
        "model": {"num_classes": 10, "width": 4, "seed": 1, "dropout": 0.0},
        "images": images,
        "labels": labels,
        "batch_size": 32,
        "shuffle": False,
        "epochs": 3,
        "lr": 0.05,
        "seed": 0,
    }
    return case | changes


def reference_losses(reference, case):
    model = small_cnn(**case["model"])
    if case.get("eval_first"):
        model.eval()
    data = loader(case["images"], case["labels"], case["batch_size"], shuffle=case["shuffle"])
    return reference.train(model, data, case["epochs"], case["lr"], case["seed"])


def expect_same_losses(got, expected, what, hint):
    if not np.allclose(got, expected, rtol=1e-4, atol=1e-5):
        first = next(i for i, (g, e) in enumerate(zip(got, expected)) if not np.isclose(g, e, rtol=1e-4, atol=1e-5))
        raise Mismatch(f"{what}, from epoch {first + 1} on", expected=_floats(expected), got=_floats(got), hint=hint)


def _floats(values):
    return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


@pytest.mark.points(3)
@pytest.mark.hint("zero the gradients every batch; the epoch's loss is sum(loss.item() * batch size) / samples")
def test_train_follows_the_recipe(student, reference):
    """train's losses per epoch match the recipe's (SGD with momentum 0.9, mean over the epoch's samples)"""
    case = train_case(reference)
    got = ask(
        student,
        "run_train",
        "train(small_cnn, 100 images 16x16 in batches of 32, 32, 32 and 4, epochs=3, lr=0.05, seed=0)",
        case,
    )
    losses = expect_losses(got["losses"], 3)
    expect_same_losses(
        losses,
        reference_losses(reference, case),
        "the losses per epoch are not the recipe's",
        "the recipe: SGD(model.parameters(), lr=lr, momentum=0.9); per batch zero_grad, cross_entropy, backward, step",
    )


@pytest.mark.points(1)
@pytest.mark.hint("call model.train() before the loop: evaluate() leaves the model in eval mode")
def test_train_puts_the_model_in_training_mode(student, reference):
    """train trains a model handed over in eval mode in training mode (BatchNorm updates its statistics)"""
    case = train_case(reference, eval_first=True)
    got = ask(
        student,
        "run_train",
        "train(small_cnn in eval mode, 100 images in batches of 32, epochs=3, lr=0.05, seed=0)",
        case,
    )
    expect_losses(got["losses"], 3)
    if not got["statistics_updated"]:
        raise Mismatch(
            "the model trained in eval mode: BatchNorm's running statistics never changed",
            expected="BatchNorm layers on batch statistics, updating their running statistics",
        )


@pytest.mark.points(2)
@pytest.mark.section("Practice Exercises")
@pytest.mark.hint("a trained network should do far better than chance (10%) on new images of the same classes")
def test_training_beats_chance_on_held_out_images(student, reference):
    """after 3 epochs on 256 synthetic images, the network beats chance on 200 held-out images"""
    images, labels = synthetic(reference, 256, seed=1)
    held_out = synthetic(reference, 200, seed=2)
    case = {
        "model": {"num_classes": 10, "width": 8, "seed": 0},
        "images": images,
        "labels": labels,
        "batch_size": 32,
        "shuffle": True,
        "epochs": 3,
        "lr": 0.05,
        "seed": 0,
        "held_out": held_out,
    }
    got = ask(
        student,
        "run_train",
        "train(small_cnn, synthetic_images(256, size=16, seed=1) in batches of 32, epochs=3, lr=0.05, seed=0)",
        case,
    )
    losses = expect_losses(got["losses"], 3)
    if not losses[-1] < 0.9 * losses[0]:
        raise Mismatch(
            "the training loss hardly fell", expected="the last epoch at least 10% below the first", got=_floats(losses)
        )
    if got["accuracy"] < 0.4:
        raise Mismatch(
            "the trained network is barely better than chance on held-out images",
            expected="an accuracy of at least 0.40 (chance: 0.10)",
            got=f"{got['accuracy']:.2f}",
            details=(f"training losses: {_floats(losses)}",),
        )


@pytest.mark.points(2)
@pytest.mark.hint("torch.manual_seed(seed) first thing in train: it fixes the shuffling and the dropout masks")
def test_the_seed_decides_the_run(student, reference):
    """the same seed gives the same losses whatever ran before; another seed gives other losses"""
    images, labels = synthetic(reference, 96, seed=3)
    case = {
        "model": {"num_classes": 10, "width": 4, "seed": 2},
        "images": images,
        "labels": labels,
        "batch_size": 32,
        "shuffle": True,
        "epochs": 2,
        "lr": 0.05,
        "seed": 5,
    }
    call = "train(small_cnn with dropout, 96 shuffled images, epochs=2, lr=0.05, seed={seed})"
    first = expect_losses(ask(student, "run_train", call.format(seed=5), case | {"scramble": 1})["losses"], 2)
    again = expect_losses(ask(student, "run_train", call.format(seed=5), case | {"scramble": 2})["losses"], 2)
    if first != again:
        raise Mismatch(
            "two runs with seed=5 gave different losses (torch's generator was in another state before the second)",
            expected=_floats(first),
            got=_floats(again),
        )
    other = expect_losses(
        ask(student, "run_train", call.format(seed=6), case | {"seed": 6, "scramble": 1})["losses"], 2
    )
    if other == first:
        raise Mismatch(
            "seed=5 and seed=6 gave exactly the same losses: the seed argument is not used",
            expected="other shuffling and dropout, so other losses",
            got=_floats(other),
            hint="torch.manual_seed(seed), with the argument, not a constant",
        )


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


def evaluate_case(reference, n, batch_size, seed):
    images, labels = synthetic(reference, n, seed=seed)
    return {
        "model": {"num_classes": 10, "width": 4, "seed": seed},
        "images": images,
        "labels": labels,
        "batch_size": batch_size,
    }


@pytest.mark.points(1)
@pytest.mark.hint("count correct samples and samples over all batches; the last batch may be smaller")
def test_evaluate_weights_every_sample_equally(student, reference):
    """evaluate over batches of 16, 16, 16 and 2 images is the accuracy over all 50"""
    case = evaluate_case(reference, 50, 16, seed=4)
    got = ask(student, "run_evaluate", "evaluate(small_cnn in train mode, batches of 16, 16, 16 and 2)", case)
    expected = accuracy(small_cnn(**case["model"]), case["images"], case["labels"])
    same_as_reference = reference.evaluate(small_cnn(**case["model"]), loader(case["images"], case["labels"], 16))
    assert abs(expected - same_as_reference) < 1e-12, "the reference disagrees with the grader's own count"
    expect_accuracy(got["accuracy"], expected, f"{round(expected * 50)} of 50 correct")


@pytest.mark.points(1)
@pytest.mark.hint("model.eval() and torch.no_grad(): in train mode BatchNorm updates its running statistics")
def test_evaluate_leaves_the_model_unchanged(student, reference):
    """evaluate changes neither the weights nor the BatchNorm statistics of the model"""
    case = evaluate_case(reference, 40, 20, seed=5)
    got = ask(student, "run_evaluate", "evaluate(small_cnn in train mode, 2 batches of 20 images)", case)
    if not got["state_unchanged"]:
        raise Mismatch(
            "the model's state changed during evaluate",
            expected="the same weights and BatchNorm running statistics before and after",
            got="some state-dict entries changed",
        )


def compare_case(reference):
    images, labels = synthetic(reference, 96, seed=6)
    options = {"epochs": 2, "lr": 0.05, "seed": 3, "num_classes": 10, "width": 4, "blocks": (1, 1)}
    return {
        "train": (images[:64], labels[:64]),
        "test": (images[64:], labels[64:]),
        "batch_size": 32,
        "options": options,
    }


def expect_histories(got, expected, what, hint):
    """`got` (compare_skip's result) holds both histories, with `expected`'s losses and accuracies."""
    if not isinstance(got, dict) or sorted(got) != ["plain", "residual"]:
        raise Mismatch(
            "compare_skip should return a dict with two histories",
            expected="keys 'plain' and 'residual'",
            got=f"{sorted(got) if isinstance(got, dict) else got!r}",
        )
    for name in ("residual", "plain"):
        history = got[name] if isinstance(got[name], dict) else {}
        losses = expect_losses(
            history.get("loss"), len(expected[name]["loss"]), what=f"compare_skip's {name!r} history"
        )
        expect_same_losses(losses, expected[name]["loss"], f"the {name!r} losses differ {what}", hint)
        accuracy = history.get("accuracy")
        if not isinstance(accuracy, (int, float)) or abs(accuracy - expected[name]["accuracy"]) > 1e-6:
            raise Mismatch(
                f"the {name!r} accuracy differs {what}",
                expected=f"{expected[name]['accuracy']!r}",
                got=f"{accuracy!r}",
                hint=hint,
            )


COMPARE_CALL = (
    "compare_skip(64 training images, 32 test images, epochs=2, lr=0.05, seed=3, num_classes=10, "
    "width=4, blocks=(1, 1))"
)


@pytest.mark.points(2)
@pytest.mark.hint(
    "for each of residual (skip=True) and plain (skip=False): torch.manual_seed(seed), make_resnet, train, evaluate"
)
def test_compare_skip_follows_its_recipe(student, reference):
    """compare_skip returns what your make_resnet, train and evaluate give, called as its docstring says"""
    got = ask(student, "run_compare_skip", COMPARE_CALL, compare_case(reference))
    recipe = got["recipe"]
    for name in ("residual", "plain"):
        expect_losses(recipe[name]["loss"], 2, what=f"train on the {name} network")
    expect_histories(
        got["result"],
        recipe,
        "from your own train and evaluate, run step by step",
        "seed torch with `seed` right before building each network, so both start alike",
    )


@pytest.mark.points(1)
@pytest.mark.hint("the residual network has skip=True, the plain one skip=False; both trained with train()")
def test_compare_skip_matches_the_reference(student, reference):
    """compare_skip's histories match the reference's, end to end"""
    case = compare_case(reference)
    got = ask(student, "run_compare_skip", COMPARE_CALL, case)
    expected = reference.compare_skip(
        loader(*case["train"], 32, shuffle=True), loader(*case["test"], 32), **case["options"]
    )
    expect_histories(got["result"], expected, "from the reference's", None)


def plotted(student):
    got = ask(
        student,
        "run_plot",
        "plot_histories({'residual': ..., 'plain': ..., 'deeper plain': ...}, 'skip.png')",
        PLOT,
        "skip.png",
    )
    if not got["figures"]:
        raise Mismatch(
            "plot_histories saved no matplotlib figure",
            expected="figure.savefig(path) or plt.savefig(path)",
            got="no call to savefig",
        )
    return got["figures"][-1]


@pytest.mark.points(2)
@pytest.mark.hint("one ax.plot(epochs, history['loss'], label=name) per history")
def test_plot_has_a_curve_per_history(student):
    """the saved figure has one curve per history, through that history's losses"""
    figure = plotted(student)
    lines = [line for ax in figure["axes"] for line in ax["lines"]]
    for name, history in PLOT.items():
        if not any(
            len(line["y"]) == len(history["loss"]) and np.allclose(line["y"], history["loss"]) for line in lines
        ):
            raise Mismatch(
                f"no curve in the saved figure goes through the {name!r} losses",
                expected=f"a line with y = {history['loss']}",
                got=f"{len(lines)} line(s)" + (f", y = {list(np.round(lines[0]['y'], 3))}, ..." if lines else ""),
                hint="plot before saving: savefig writes what the figure holds at that moment",
            )


@pytest.mark.points(1)
@pytest.mark.hint("ax.set_xlabel('epoch'), ax.set_ylabel('training loss'), ax.legend() after plotting with labels")
def test_plot_has_labelled_axes_and_a_legend(student):
    """the saved figure's axes are labelled and its legend names every history"""
    figure = plotted(student)
    axes = [ax for ax in figure["axes"] if ax["lines"]] or figure["axes"]
    if not axes or not all(ax["xlabel"].strip() and ax["ylabel"].strip() for ax in axes):
        raise Mismatch(
            "the axes are not labelled",
            expected="an x label (epoch) and a y label (loss)",
            got=", ".join(f"x: {ax['xlabel']!r}, y: {ax['ylabel']!r}" for ax in axes) or "no axes",
        )
    entries = [text for ax in figure["axes"] for text in ax["legend"]] + figure["figure_legend"]
    missing = [name for name in PLOT if not any(name in entry for entry in entries)]
    if missing:
        raise Mismatch(
            "the legend does not name every history",
            expected=f"entries for {list(PLOT)}",
            got=f"legend entries {entries}" if entries else "no legend",
        )


# -- what your curves show: CONCLUSIONS read against your own RUN ---------------------------------

#: Gaps are asked to 2 decimals; "tie" means equal to 4 decimals (RUN's precision).
GAP_TOLERANCE, TIE = 0.01, 5e-5


def your_run(student):
    """(histories, conclusions): the student's RUN as {name: (losses, accuracy)}, and CONCLUSIONS, both checked."""
    return read_answers(student)


def larger(residual, plain):
    """The names a statement "which is larger" may give: one name, or when equal to 4 decimals "tie" (or the
    name a float comparison of the two picks)."""
    if abs(residual - plain) < TIE:
        return {"tie"} | ({"residual"} if residual > plain else {"plain"} if plain > residual else set())
    return {"residual"} if residual > plain else {"plain"}


def ahead_from(residual, plain):
    """The first epoch (from 1) from which residual < plain at every epoch to the last; None if not at the last."""
    epoch = None
    for index in range(len(residual) - 1, -1, -1):
        if not residual[index] < plain[index]:
            break
        epoch = index + 1
    return epoch


def rises(losses):
    """The epochs (from 1) whose loss is higher than the epoch before's."""
    return [epoch for epoch in range(2, len(losses) + 1) if losses[epoch - 1] > losses[epoch - 2]]


def _stated(conclusions, key):
    return f"CONCLUSIONS[{key!r}] = {conclusions[key]!r}"


@pytest.mark.points(1)
@pytest.mark.section("Practice Exercises")
@pytest.mark.hint("a gap is the plain network's loss minus the residual network's, after that epoch, from your RUN")
def test_conclusions_state_the_loss_gaps_of_your_run(student):
    """first_epoch_gap and last_epoch_gap are plain's loss minus residual's in your RUN, within 0.01"""
    run, conclusions = your_run(student)
    (residual, _), (plain, _) = run["residual"], run["plain"]
    for key, index, which in (("first_epoch_gap", 0, "first"), ("last_epoch_gap", -1, "last")):
        gap = plain[index] - residual[index]
        stated = conclusions[key]
        if abs(stated - gap) <= GAP_TOLERANCE:
            continue
        details = ()
        if abs(stated + gap) <= GAP_TOLERANCE:
            details = ("that is the residual network's loss minus the plain network's: the sign is the other way",)
        elif abs(stated - 100 * gap) <= 100 * GAP_TOLERANCE or abs(stated) > 50:
            details = ("a loss gap is a difference of losses, not a percentage",)
        raise Mismatch(
            f"{_stated(conclusions, key)} is not what your run shows after the {which} epoch",
            expected=f"{plain[index]:.4f} - {residual[index]:.4f} = {gap:.4f} (within 0.01)",
            got=f"{stated!r}",
            details=details,
        )


@pytest.mark.points(1)
@pytest.mark.section("Practice Exercises")
@pytest.mark.hint(
    "how much each loss fell is its first epoch's loss minus its last; a loss rose at epoch e when "
    "it is higher than at epoch e - 1"
)
def test_conclusions_say_how_your_curves_fell(student):
    """fell_further and rose_at read the drop from first to last epoch, and every rise, off your RUN"""
    run, conclusions = your_run(student)
    (residual, _), (plain, _) = run["residual"], run["plain"]
    drops = {name: run[name][0][0] - run[name][0][-1] for name in ("residual", "plain")}
    right = larger(drops["residual"], drops["plain"])
    if conclusions["fell_further"] not in right:
        lower = larger(-residual[-1], -plain[-1])
        details = (
            ("that is the network with the lower last loss, which need not have fallen more",)
            if conclusions["fell_further"] in lower
            else ()
        )
        raise Mismatch(
            f"{_stated(conclusions, 'fell_further')} is not what your run shows",
            expected=" or ".join(repr(name) for name in sorted(right)),
            got=f"the residual network's loss fell by {drops['residual']:.4f}, the plain network's by "
            f"{drops['plain']:.4f}",
            details=details,
        )
    stated = conclusions["rose_at"]
    for name, losses in (("residual", residual), ("plain", plain)):
        if sorted(stated[name]) != rises(losses):
            raise Mismatch(
                f"CONCLUSIONS['rose_at'][{name!r}] = {stated[name]!r} is not what your run shows",
                expected=f"{rises(losses)}",
                got=f"the {name} losses {_floats(losses)}",
                hint="epochs are counted from 1: the second loss is epoch 2",
            )


@pytest.mark.points(1)
@pytest.mark.section("Practice Exercises")
@pytest.mark.hint(
    "from the last epoch backwards: the first epoch of the run of epochs where the residual loss is below the plain one"
)
def test_conclusions_say_from_when_the_residual_network_led(student):
    """ahead_from_epoch is the epoch from which your residual network's loss stays below the plain one's"""
    run, conclusions = your_run(student)
    (residual, _), (plain, _) = run["residual"], run["plain"]
    expected = ahead_from(residual, plain)
    if conclusions["ahead_from_epoch"] != expected:
        leading = ", ".join(
            f"{e}: {'residual' if r < p else 'plain'}" for e, (r, p) in enumerate(zip(residual, plain), start=1)
        )
        raise Mismatch(
            f"{_stated(conclusions, 'ahead_from_epoch')} is not what your run shows",
            expected=f"{expected!r}",
            got=f"the lower loss at each epoch: {leading}",
        )


@pytest.mark.points(1)
@pytest.mark.section("Practice Exercises")
@pytest.mark.hint("compare the two 'accuracy' values of your RUN")
def test_conclusions_say_which_network_scored_higher(student):
    """higher_accuracy names the network of your RUN with the higher test accuracy"""
    run, conclusions = your_run(student)
    accuracies = {name: run[name][1] for name in ("residual", "plain")}
    right = larger(accuracies["residual"], accuracies["plain"])
    if conclusions["higher_accuracy"] not in right:
        raise Mismatch(
            f"{_stated(conclusions, 'higher_accuracy')} is not what your run shows",
            expected=" or ".join(repr(name) for name in sorted(right)),
            got=f"test accuracy {accuracies['residual']:.4f} (residual), {accuracies['plain']:.4f} (plain)",
        )
