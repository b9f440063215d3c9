"""The experiment exercise: its provided data and networks, the reference against oracles, `grader experiment`.

The CIFAR-10 loader is tested on tiny batch files written here in CIFAR's own
format (a pickled dict of uint8 rows), since the real data is not shipped.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import typer
from support import ROOT, corpus_text
from typer.testing import CliRunner

from grader.checks import Mismatch
from grader.cli.experiment import CountingLoader, Settings, register, run_experiment, run_record
from grader.engine.runner import GradeOptions, grade
from grader.judging.experiment import CONCLUSION_KINDS, read_conclusions, read_png, read_run
from grader.reports import json_report


@pytest.fixture(scope="module")
def experiment():
    spec = importlib.util.spec_from_file_location("reference_experiment", ROOT / "reference/experiment.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_batch(path, images, labels):
    """A CIFAR-10 python batch: rows of 3072 uint8 (red plane, green plane, blue plane), as the real files."""
    rows = images.reshape(len(images), 3 * 32 * 32)
    with open(path, "wb") as stream:
        pickle.dump(
            {
                b"batch_label": b"fake",
                b"labels": [int(n) for n in labels],
                b"data": rows,
                b"filenames": [b"x.png"] * len(labels),
            },
            stream,
        )


def fake_cifar(folder, counts=(3, 2), test=2):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    written = {}
    for index, count in enumerate(counts, start=1):
        images = rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, count)
        write_batch(folder / f"data_batch_{index}", images, labels)
        written[f"data_batch_{index}"] = (images, labels)
    images, labels = rng.integers(0, 256, (test, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, test)
    write_batch(folder / "test_batch", images, labels)
    written["test_batch"] = (images, labels)
    return written


# -- provided data ------------------------------------------------------------------------


def test_cifar_batches_are_read_plane_by_plane_in_file_order(experiment, tmp_path):
    written = fake_cifar(tmp_path / "cifar-10-batches-py")
    images, labels = experiment.load_cifar10(tmp_path)  # the parent folder works too
    expected = np.concatenate([written["data_batch_1"][0], written["data_batch_2"][0]])
    assert images.shape == (5, 3, 32, 32) and images.dtype == np.float32
    np.testing.assert_allclose(images, expected / 255.0, rtol=1e-6)
    raw = written["data_batch_1"][0].reshape(3, -1)
    assert images[0, 1, 0, 0] == pytest.approx(raw[0, 1024] / 255.0)  # green starts at 1024
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, np.concatenate([written["data_batch_1"][1], written["data_batch_2"][1]]))
    test_images, test_labels = experiment.load_cifar10(tmp_path / "cifar-10-batches-py", train=False)
    np.testing.assert_allclose(test_images, written["test_batch"][0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(test_labels, written["test_batch"][1])


def test_missing_cifar_batches_are_named(experiment, tmp_path):
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        experiment.load_cifar10(tmp_path)
    with pytest.raises(FileNotFoundError, match="test_batch"):
        experiment.load_cifar10(tmp_path, train=False)


class _Runs:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_pickle_that_would_run_code_is_refused(experiment, tmp_path):
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"data": _Runs(), b"labels": [0]}))
    with pytest.raises(pickle.UnpicklingError, match="os|posix|system"):
        experiment.load_cifar10(tmp_path)


def test_synthetic_images_are_deterministic_balanced_and_split_by_seed(experiment):
    images, labels = experiment.synthetic_images(105, seed=3)
    again, again_labels = experiment.synthetic_images(105, seed=3)
    other, _ = experiment.synthetic_images(105, seed=4)
    assert images.shape == (105, 3, 32, 32) and images.dtype == np.float32 and labels.dtype == np.int64
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(labels, again_labels)
    assert not np.allclose(images, other)
    assert sorted(np.bincount(labels, minlength=10)) == [10] * 5 + [11] * 5


def test_synthetic_classes_are_the_same_task_for_every_seed(experiment):
    """A nearest-class-mean classifier fitted on one seed's images does far better than chance on another's."""

    def features(images):  # per channel, the energy along each of 10 directions: colour and orientation
        spectrum = np.abs(np.fft.fft2(images)) ** 2
        return spectrum.reshape(len(images), -1)

    train, train_labels = experiment.synthetic_images(400, size=16, seed=1)
    test, test_labels = experiment.synthetic_images(200, size=16, seed=2)
    means = np.stack([features(train[train_labels == c]).mean(0) for c in range(10)])
    predicted = np.argmin(((features(test)[:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert np.mean(predicted == test_labels) > 0.5


# -- provided networks --------------------------------------------------------------------


def test_make_resnet_at_width_64_is_resnet18_for_cifar(experiment):
    """11,173,962 parameters: the published count of ResNet-18 with a 3x3 stem for 32x32 images."""
    model = experiment.make_resnet(10, width=64)
    assert sum(p.numel() for p in model.parameters()) == 11_173_962
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) == 17  # 16 in blocks and the stem; with the classifier, 18 layers


def test_the_plain_twin_differs_only_by_its_shortcuts(experiment):
    plain = experiment.make_resnet(10, width=64, skip=False)
    projections = 64 * 128 + 128 * 256 + 256 * 512 + 2 * (128 + 256 + 512)  # 1x1 convs and their BN
    assert sum(p.numel() for p in plain.parameters()) == 11_173_962 - projections
    assert not any(isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1) for m in plain.modules())


# -- the reference against oracles ------------------------------------------------------------


def test_reference_train_with_lr_zero_records_the_sample_mean_cross_entropy(experiment):
    """lr=0 leaves the model as it is: every epoch's loss is the plain mean cross-entropy over all samples."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 4))
    images, labels = experiment.synthetic_images(37, num_classes=4, size=8, seed=9)
    losses = experiment.train(model, experiment.make_loader(images, labels, 10), epochs=2, lr=0.0, seed=0)
    expected = F.cross_entropy(model(torch.from_numpy(images)), torch.from_numpy(labels)).item()
    assert losses == pytest.approx([expected, expected], rel=1e-6)


def test_reference_evaluate_counts_argmax_hits(experiment):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 4))
    images, labels = experiment.synthetic_images(23, num_classes=4, size=8, seed=5)
    hits = (model(torch.from_numpy(images)).argmax(1).numpy() == labels).sum()
    assert experiment.evaluate(model, experiment.make_loader(images, labels, 5)) == hits / 23


def test_reference_plot_decodes_with_both_curves(experiment, tmp_path):
    path = tmp_path / "curves.png"
    experiment.plot_histories({"residual": {"loss": [2.0, 1.0]}, "plain": {"loss": [2.0, 1.5]}}, str(path))
    image = read_png(np.frombuffer(path.read_bytes(), dtype=np.uint8))
    assert (image["width"], image["height"]) == (600, 400) and image["colours"] > 10


# -- grader experiment ---------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, so the command is called by its name as under `grader`
    register(app)
    return app


TINY = [
    "--epochs",
    "1",
    "--width",
    "2",
    "--blocks",
    "1",
    "--batch-size",
    "16",
    "--course",
    str(ROOT),
    "--submission",
    str(ROOT / "reference"),
]


def test_grader_experiment_trains_both_networks_and_writes_the_plot(tmp_path):
    output = tmp_path / "plots" / "skip.png"
    result = CliRunner().invoke(
        _app(),
        ["experiment", *TINY, "--train-size", "32", "--test-size", "16", "--image-size", "8", "--output", str(output)],
    )
    assert result.exit_code == 0, result.output
    assert "residual" in result.output and "plain" in result.output and "plot written to" in result.output
    assert "error" not in read_png(np.frombuffer(output.read_bytes(), dtype=np.uint8))


def test_grader_experiment_prints_a_run_record_that_pastes_as_run(tmp_path):
    """What follows "RUN = " is a Python literal that the grader reads as the run it printed."""
    output = tmp_path / "skip.png"
    result = CliRunner().invoke(
        _app(),
        [
            "experiment",
            *TINY,
            "--train-size",
            "32",
            "--test-size",
            "16",
            "--image-size",
            "8",
            "--epochs",
            "2",
            "--output",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    pasted = ast.literal_eval(result.output.split("RUN = ", 1)[1])
    histories = read_run(pasted)
    assert sorted(histories) == ["plain", "residual"] and all(len(h[0]) == 2 for h in histories.values())
    assert pasted["settings"].startswith("grader experiment --epochs 2 --lr 0.05 --width 2 --blocks 1 ")
    assert "--image-size 8 --train-size 32 --test-size 16" in pasted["settings"]


def test_a_one_epoch_run_prints_no_record_to_paste(tmp_path):
    result = CliRunner().invoke(
        _app(),
        [
            "experiment",
            *TINY,
            "--train-size",
            "32",
            "--test-size",
            "16",
            "--image-size",
            "8",
            "--output",
            str(tmp_path / "skip.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "RUN = " not in result.output and "run at least 2 epochs" in result.output


def test_a_run_record_keeps_four_decimals_and_the_options_that_repeat_it():
    histories = {
        "residual": {"loss": [2.302585093, 1.23456789], "accuracy": 0.8125},
        "plain": {"loss": [2.31, 2.0], "accuracy": 1 / 3},
    }
    record = run_record(histories, Settings(epochs=2, cifar=None, seed=7, blocks=(1, 2)))
    assert record["residual"] == {"loss": [2.3026, 1.2346], "accuracy": 0.8125}
    assert record["plain"]["accuracy"] == 0.3333
    assert "--seed 7" in record["settings"] and "--blocks 1,2" in record["settings"]


# -- RUN and CONCLUSIONS, as the suites read them -------------------------------------------------

RUN = {
    "settings": "grader experiment --epochs 3",
    "residual": {"loss": [2.3, 1.9, 1.2], "accuracy": 0.7},
    "plain": {"loss": [2.3, 2.1, 2.2], "accuracy": 0.4},
}
CONCLUSIONS = {
    "first_epoch_gap": 0.0,
    "last_epoch_gap": 1.0,
    "fell_further": "residual",
    "ahead_from_epoch": 2,
    "rose_at": {"residual": [], "plain": [3]},
    "higher_accuracy": "residual",
}


def test_a_run_record_is_read_as_losses_and_accuracy_per_network():
    assert read_run(RUN) == {"residual": ([2.3, 1.9, 1.2], 0.7), "plain": ([2.3, 2.1, 2.2], 0.4)}


@pytest.mark.parametrize(
    "run, complaint",
    [
        (None, "RUN is None"),
        ("<missing>", "RUN is not defined"),
        ({"residual": RUN["residual"]}, "not the record"),
        (RUN | {"plain": {"loss": [2.3], "accuracy": 0.4}}, "list of losses"),
        (RUN | {"plain": {"loss": [2.3, float("nan")], "accuracy": 0.4}}, "list of losses"),
        (RUN | {"plain": {"loss": [2.3, 2.1, 2.2], "accuracy": 40.0}}, "not a test accuracy"),
        (RUN | {"plain": {"loss": [2.3, 2.1], "accuracy": 0.4}}, "same number of epochs"),
    ],
)
def test_a_run_that_is_not_a_record_is_refused_with_what_is_wrong(run, complaint):
    with pytest.raises(Mismatch, match=complaint):
        read_run(run)


def test_conclusions_are_read_when_every_statement_has_its_kind():
    assert read_conclusions(CONCLUSIONS) == CONCLUSIONS
    assert read_conclusions(CONCLUSIONS | {"ahead_from_epoch": None, "fell_further": "tie"})


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"fell_further": "the residual one"}, "fell_further"),
        ({"ahead_from_epoch": 0}, "ahead_from_epoch"),
        ({"ahead_from_epoch": 2.0}, "ahead_from_epoch"),
        ({"rose_at": [3]}, "rose_at"),
        ({"rose_at": {"plain": [3]}}, "rose_at"),
        ({"last_epoch_gap": "1.0"}, "last_epoch_gap"),
        ({"higher_accuracy": True}, "higher_accuracy"),
    ],
)
def test_a_statement_of_the_wrong_kind_is_named(change, complaint):
    with pytest.raises(Mismatch, match=complaint):
        read_conclusions(CONCLUSIONS | change)


def test_missing_conclusions_are_each_named():
    with pytest.raises(Mismatch, match="does not say rose_at, higher_accuracy"):
        read_conclusions({key: CONCLUSIONS[key] for key in list(CONCLUSION_KINDS)[:4]})
    with pytest.raises(Mismatch, match="CONCLUSIONS is None"):
        read_conclusions(None)


def test_grader_experiment_reads_cifar_batches(tmp_path):
    fake_cifar(tmp_path / "cifar", counts=(16,), test=8)
    output = tmp_path / "cifar.png"
    result = CliRunner().invoke(
        _app(), ["experiment", *TINY, "--cifar", str(tmp_path / "cifar"), "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert output.is_file()


def test_grader_experiment_on_the_stub_says_what_is_missing(tmp_path):
    result = CliRunner().invoke(_app(), ["experiment", "--course", str(ROOT), "--output", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    assert "compare_skip is not implemented yet" in result.output


def test_progress_counts_every_training_and_test_batch(experiment):
    seen = []
    settings = Settings(epochs=2, width=2, blocks=(1,), batch_size=10, train_size=30, test_size=20, image_size=8)
    histories = run_experiment(experiment, settings, lambda done, total: seen.append((done, total)))
    assert seen == [(n, 2 * (2 * 3 + 2)) for n in range(1, 17)]
    assert sorted(histories) == ["plain", "residual"]
    assert len(CountingLoader([1, 2, 3], lambda: None)) == 3


# -- grading ------------------------------------------------------------------------------------


def test_grading_a_numeric_bug_twice_gives_identical_reports(course, tmp_path):
    submission = tmp_path / "sub"
    submission.mkdir()
    (submission / "experiment.py").write_text(corpus_text("experiment/buggy_no_momentum"))
    runs = [
        json.loads(json_report.render(grade(course, submission, GradeOptions(exercises=("experiment",)))))
        for _ in range(2)
    ]
    for run in runs:
        for test in run["tests"]:
            test["extra_data"].pop("duration")
        run["exercises"][0].pop("duration")
    assert runs[0] == runs[1]
    assert 0 < runs[0]["score"] < runs[0]["max_score"]


def test_conclusions_that_contradict_their_own_run_lose_those_points_and_no_others(course, tmp_path):
    """The textbook's story told of a run that shows otherwise: each statement its RUN contradicts costs its
    test (the gap's sign is named), the statement it gets right and the code's tests keep their points."""
    submission = tmp_path / "sub"
    submission.mkdir()
    (submission / "experiment.py").write_text(corpus_text("experiment/buggy_conclusions_contradict_own_run"))
    result = grade(course, submission, GradeOptions(exercises=("experiment",))).exercises[0]
    failing = {t.test_id.rpartition("::")[2]: "\n".join(t.message) for t in result.tests if not t.passed}
    assert sorted(failing) == [
        "test_conclusions_say_from_when_the_residual_network_led",
        "test_conclusions_say_how_your_curves_fell",
        "test_conclusions_say_which_network_scored_higher",
        "test_conclusions_state_the_loss_gaps_of_your_run",
    ]
    assert "last_epoch_gap" in failing["test_conclusions_state_the_loss_gaps_of_your_run"]
    assert "the sign is the other way" in failing["test_conclusions_state_the_loss_gaps_of_your_run"]
    assert "'plain'" in failing["test_conclusions_say_which_network_scored_higher"]
