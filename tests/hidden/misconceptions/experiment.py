"""Known mistakes in the skip-connection experiment, each detected by rerunning the student's code.

The suites call `train`, `evaluate`, `compare_skip` and `plot_histories` through
probes (grader/probes/experiment.py: models and loaders cannot cross the process
boundary), so every entry is a detector. The training entries imitate: they run
the same case through the student's `train` (in the sandbox) and through a copy
of the recipe with one mistake (here, in the judge, on the same `small_cnn` and
the same data), and fire when the student's losses are the mistaken copy's and
not the recipe's. The others read what the probes report (BatchNorm statistics
that changed, the histories `compare_skip` returned next to the student's own
recipe, what the saved figure held).

Where the mistakes come from: our corpus (tests/engine/corpus/experiment/); the
PyTorch forum threads "why do we need to call zero_grad()", "model.eval() vs
torch.no_grad()" and "BatchNorm running stats change during evaluation";
"reproducibility: same seed, different results" (seeding once, or a constant
seed); CS231n's training-loop notes (epoch loss as the mean over samples, not
the last batch or the mean of batch means; SGD with momentum); "loss.item() vs
loss: memory keeps growing" threads; matplotlib's "savefig saves an empty
figure" (saving before plotting).
"""

import numpy as np
import torch
import torch.nn.functional as F

from grader.suite import loader, misconception, remembered, small_cnn

PRACTICE = "Practice Exercises"
RESNET = "ResNet (2015)"


def _report(student, name, *args):
    """`student.probe("experiment.<name>", *args)`, run once per submission."""
    return remembered(student, (name, repr(args)), lambda: student.probe(f"experiment.{name}", *args))


# -- the cases (as the hidden suite's) ----------------------------------------------------------


def _train_case(reference, **changes):
    """100 images 16x16 in batches of 32, 32, 32 and 4 (a short last batch), 3 epochs, no dropout."""
    images, labels = reference.synthetic_images(100, size=16, seed=11)
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


def _seed_case(reference, seed):
    """96 shuffled images, dropout on: the seed decides the run; torch reseeded with 1 before the call."""
    images, labels = reference.synthetic_images(96, size=16, seed=3)
    return {
        "model": {"num_classes": 10, "width": 4, "seed": 2},
        "images": images,
        "labels": labels,
        "batch_size": 32,
        "shuffle": True,
        "epochs": 2,
        "lr": 0.05,
        "seed": seed,
        "scramble": 1,
    }


def _evaluate_cases(reference):
    cases = []
    for n, batch_size, seed in ((50, 16, 4), (40, 20, 5)):
        images, labels = reference.synthetic_images(n, size=16, seed=seed)
        cases.append(
            {
                "model": {"num_classes": 10, "width": 4, "seed": seed},
                "images": images,
                "labels": labels,
                "batch_size": batch_size,
            }
        )
    return cases


def _compare_case(reference):
    images, labels = reference.synthetic_images(96, size=16, seed=6)
    options = {"epochs": 2, "lr": 0.05, "seed": 3, "num_classes": 10, "width": 4, "blocks": (1, 1)}
    return {
        "train": (images[:64], labels[:64]),
        "test": (images[64:], labels[64:]),
        "batch_size": 32,
        "options": options,
    }


PLOT = {
    "residual": {"loss": [2.31, 1.42, 0.93, 0.61], "accuracy": 0.81},
    "plain": {"loss": [2.30, 1.97, 1.70, 1.52], "accuracy": 0.55},
}


# -- the recipe, with one mistake at a time (run here, in the judge) ------------------------------


def _judge_side(function):
    """Run `function` on its own copy of torch's generator: the judge's state stays as the suites left it."""

    def isolated(*args, **kwargs):
        with torch.random.fork_rng(devices=[]):
            return function(*args, **kwargs)

    return isolated


@_judge_side
def _mistaken_train(case, *, zero_grad=True, momentum=0.9, to_train_mode=True, seed="argument", record="mean"):
    """What `train` returns on `case` as the probe runs it, made with the mistake the options name.

    record: "mean" (over the epoch's samples, the recipe), "last" (the last batch's loss),
    "batch_means" (the mean of the batches' means). seed: "argument" (the recipe), an int
    (a constant), or None (never seeded).
    """
    torch.set_num_threads(1)
    model = small_cnn(**case["model"])
    if case.get("eval_first"):
        model.eval()
    data = loader(case["images"], case["labels"], case["batch_size"], shuffle=case["shuffle"])
    if case.get("scramble") is not None:
        torch.manual_seed(case["scramble"])
    if seed is not None:
        torch.manual_seed(case["seed"] if seed == "argument" else seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=case["lr"], momentum=momentum)
    if to_train_mode:
        model.train()
    losses = []
    for _ in range(case["epochs"]):
        total, count, means = 0.0, 0, []
        for images, labels in data:
            loss = F.cross_entropy(model(images), labels)
            if zero_grad:
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
            means.append(loss.item())
        losses.append({"mean": total / count, "last": means[-1], "batch_means": sum(means) / len(means)}[record])
    return losses


def _same_losses(got, expected):
    return (
        isinstance(got, (list, tuple))
        and len(got) == len(expected)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in got)
        and bool(np.allclose(got, expected, rtol=1e-4, atol=1e-5))
    )


def _trains_as(student, case, **mistake):
    """Whether the student's train gives the mistaken recipe's losses on `case`, and the recipe gives others."""
    got = _report(student, "run_train", case)["losses"]
    return _same_losses(got, _mistaken_train(case, **mistake)) and not _same_losses(got, _mistaken_train(case))


# -- train ---------------------------------------------------------------------------------------


@misconception(
    "losses_as_tensors",
    explains=("train", "compare_skip"),
    section=PRACTICE,
    summary="keeps each epoch's loss as a tensor ({found})",
    explanation="record loss.item(), a float; summed tensors also keep every batch's graph alive",
)
def losses_as_tensors(student, reference):
    losses = _report(student, "run_train", _train_case(reference))["losses"]
    if not isinstance(losses, (list, tuple)):
        return False
    tensors = [v for v in losses if isinstance(v, str) and v.startswith("<torch.Tensor")]
    return tensors[0] if tensors else False


@misconception(
    "no_zero_grad",
    explains=("train", "compare_skip"),
    section=PRACTICE,
    summary="never zeroes the gradients, so each step adds all earlier gradients",
    explanation="backward() adds to .grad: call optimizer.zero_grad() for every batch",
)
def no_zero_grad(student, reference):
    return _trains_as(student, _train_case(reference), zero_grad=False)


@misconception(
    "no_momentum",
    explains=("train", "compare_skip"),
    section=PRACTICE,
    summary="uses SGD without the recipe's momentum of 0.9",
    explanation="the recipe's optimizer is torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)",
)
def no_momentum(student, reference):
    return _trains_as(student, _train_case(reference), momentum=0.0)


@misconception(
    "last_batch_loss",
    explains=("train", "compare_skip"),
    section=PRACTICE,
    summary="reports each epoch's last batch loss, not the epoch's mean",
    explanation="the epoch's loss is the mean over all its samples: sum(loss.item() * batch size) / samples",
)
def last_batch_loss(student, reference):
    return _trains_as(student, _train_case(reference), record="last")


@misconception(
    "mean_of_batch_means",
    explains=("train", "compare_skip"),
    section=PRACTICE,
    summary="averages the batch means: a short last batch counts as much as a full one",
    explanation="weight each batch's loss by its size: sum(loss.item() * len(labels)) / samples",
)
def mean_of_batch_means(student, reference):
    return _trains_as(student, _train_case(reference), record="batch_means")


@misconception(
    "train_keeps_eval_mode",
    explains=("train", "compare_skip"),
    section=PRACTICE,
    summary="never calls model.train(), so a model handed over in eval mode trains in eval mode",
    explanation="evaluate() leaves BatchNorm on running statistics and dropout off",
)
def train_keeps_eval_mode(student, reference):
    case = _train_case(reference, eval_first=True)
    report = _report(student, "run_train", case)
    return not report["statistics_updated"] and _trains_as(student, case, to_train_mode=False)


@misconception(
    "constant_seed",
    explains=("train", "compare_skip"),
    section=PRACTICE,
    summary="seeds torch with 0 whatever the seed argument says",
    explanation="torch.manual_seed(seed), with the argument: the seed is what tells two runs apart",
)
def constant_seed(student, reference):
    return _trains_as(student, _seed_case(reference, 6), seed=0)


@misconception(
    "unseeded",
    explains=("train", "compare_skip"),
    section=PRACTICE,
    summary="never seeds torch: shuffling and dropout depend on what ran before",
    explanation="call torch.manual_seed(seed) first thing in train, so one seed gives one run",
)
def unseeded(student, reference):
    return _trains_as(student, _seed_case(reference, 5), seed=None)


# -- evaluate ------------------------------------------------------------------------------------


@_judge_side
def _train_mode_accuracy(case):
    """evaluate's answer on `case` without model.eval(): BatchNorm on batch statistics, dropout on."""
    torch.set_num_threads(1)
    model = small_cnn(**case["model"])
    model.train()
    torch.manual_seed(0)
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader(case["images"], case["labels"], case["batch_size"]):
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += len(labels)
    return correct / total


@misconception(
    "evaluate_in_train_mode",
    explains=("evaluate", "compare_skip"),
    section=PRACTICE,
    summary="evaluates in train mode (BatchNorm on batch statistics, updating its running ones)",
    explanation="call model.eval() and use torch.no_grad() in evaluate",
)
def evaluate_in_train_mode(student, reference):
    for case in _evaluate_cases(reference):
        report = _report(student, "run_evaluate", case)
        accuracy = report["accuracy"]
        if (
            report["state_unchanged"]
            or not isinstance(accuracy, (int, float))
            or abs(accuracy - _train_mode_accuracy(case)) > 1e-9
        ):
            return False
    return True


@_judge_side
def _reference_accuracy(reference, case):
    return reference.evaluate(small_cnn(**case["model"]), loader(case["images"], case["labels"], case["batch_size"]))


@misconception(
    "accuracy_in_percent",
    explains=("evaluate", "compare_skip"),
    section=PRACTICE,
    summary="returns the accuracy in percent ({found})",
    explanation="evaluate returns a fraction in [0, 1], correct samples / all samples",
)
def accuracy_in_percent(student, reference):
    case = _evaluate_cases(reference)[0]
    got = _report(student, "run_evaluate", case)["accuracy"]
    expected = _reference_accuracy(reference, case)
    if isinstance(got, (int, float)) and expected > 0 and abs(got - 100 * expected) < 1e-6:
        return f"{got:g} where {expected:g} is meant"
    return False


# -- compare_skip ----------------------------------------------------------------------------------


def _same_history(got, expected):
    return (
        isinstance(got, dict)
        and _same_losses(got.get("loss"), expected["loss"])
        and isinstance(got.get("accuracy"), (int, float))
        and abs(got["accuracy"] - expected["accuracy"]) <= 1e-6
    )


def _compared(student, reference):
    """compare_skip's result and the student's own recipe (make_resnet, train, evaluate step by step)."""
    report = _report(student, "run_compare_skip", _compare_case(reference))
    result, recipe = report["result"], report["recipe"]
    if not isinstance(result, dict) or sorted(result) != ["plain", "residual"]:
        return None
    if _same_history(recipe["plain"], recipe["residual"]):
        return None  # the two networks cannot be told apart on this case
    return result, recipe


@misconception(
    "plain_twin_has_skips",
    explains=("compare_skip",),
    section=RESNET,
    summary="trains the residual network twice: 'plain' has skip connections too",
    explanation="the plain twin is make_resnet(..., skip=False); skip=True, the default, builds the shortcuts",
)
def plain_twin_has_skips(student, reference):
    compared = _compared(student, reference)
    return compared is not None and all(
        _same_history(compared[0][name], compared[1]["residual"]) for name in ("residual", "plain")
    )


@misconception(
    "histories_swapped",
    explains=("compare_skip",),
    section=RESNET,
    summary="swaps the histories: 'residual' is the plain network's run",
    explanation="skip=True builds the shortcuts (the residual network), skip=False leaves them out (the plain one)",
)
def histories_swapped(student, reference):
    compared = _compared(student, reference)
    return (
        compared is not None
        and _same_history(compared[0]["residual"], compared[1]["plain"])
        and _same_history(compared[0]["plain"], compared[1]["residual"])
    )


@_judge_side
def _seeded_once(reference, case):
    """compare_skip, as the probe calls it, seeding torch once for both networks."""
    torch.set_num_threads(1)
    options = case["options"]
    train_data = loader(*case["train"], case["batch_size"], shuffle=True)
    test_data = loader(*case["test"], case["batch_size"])
    torch.manual_seed(options["seed"])
    histories = {}
    for name, skip in (("residual", True), ("plain", False)):
        model = reference.make_resnet(
            options["num_classes"], skip=skip, width=options["width"], blocks=options["blocks"]
        )
        losses = reference.train(model, train_data, options["epochs"], options["lr"], options["seed"])
        histories[name] = {"loss": losses, "accuracy": reference.evaluate(model, test_data)}
    return histories


@misconception(
    "seeded_once_for_both",
    explains=("compare_skip",),
    section=RESNET,
    summary="seeds torch once for both networks, so the plain one starts from other weights",
    explanation="call torch.manual_seed(seed) right before building each network",
)
def seeded_once_for_both(student, reference):
    compared = _compared(student, reference)
    if compared is None or _same_history(compared[0]["plain"], compared[1]["plain"]):
        return False
    mistaken = _seeded_once(reference, _compare_case(reference))
    return all(_same_history(compared[0][name], mistaken[name]) for name in ("residual", "plain"))


# -- plot_histories ----------------------------------------------------------------------------------


def _figures(student):
    return _report(student, "run_plot", PLOT, "skip.png")["figures"]


@misconception(
    "saved_before_plotting",
    explains=("plot_histories",),
    section=PRACTICE,
    summary="saves a figure that holds no curve ({found})",
    explanation="savefig writes what the figure holds then: plot, label and add the legend first, then save",
)
def saved_before_plotting(student, reference):
    figures = _figures(student)
    if not figures or any(ax["lines"] or ax["legend"] for figure in figures for ax in figure["axes"]):
        return False  # a legend says something was drawn (a scatter or bars, which are no lines): not saved too early
    if any(figure["figure_legend"] for figure in figures):
        return False
    axes = sum(len(figure["axes"]) for figure in figures)
    return f"{axes} empty axes" if axes else "no axes"


@misconception(
    "unlabelled_plot",
    explains=("plot_histories",),
    section=PRACTICE,
    summary="draws the curves without axis labels or a legend",
    explanation="ax.set_xlabel('epoch'), ax.set_ylabel('training loss'), a label= per curve and ax.legend()",
)
def unlabelled_plot(student, reference):
    figures = _figures(student)
    if not figures:
        return False
    figure = figures[-1]
    plotted = [ax for ax in figure["axes"] if ax["lines"]]
    if not plotted or figure["figure_legend"] or any(ax["legend"] for ax in figure["axes"]):
        return False
    return all(not ax["xlabel"].strip() and not ax["ylabel"].strip() for ax in plotted)
