"""`grader experiment`: the skip-connection experiment, run with your own experiment.py.

This is your experiment on your machine, not grading: your module is imported
here (no sandbox), its `compare_skip` trains the residual and the plain network
on the course's synthetic images (or on CIFAR-10 with --cifar), a progress bar
follows every batch, and your `plot_histories` writes the plot.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Callable, Optional

import typer

from grader.cli.common import CourseOption, ExitCode, console, errors, load


def register(app: typer.Typer) -> None:
    app.command("experiment")(experiment_command)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What to train on and how; the defaults take a minute or two on a laptop's CPU."""

    epochs: int = 5
    lr: float = 0.05
    width: int = 8  #: channels of the first stage (64 is ResNet-18's)
    blocks: tuple[int, ...] = (2, 2, 2, 2)  #: blocks per stage (ResNet-18's layout)
    batch_size: int = 64
    seed: int = 0
    train_size: Optional[int] = 2000  #: synthetic images generated, or CIFAR-10 images kept (None: all)
    test_size: Optional[int] = 500
    image_size: int = 32  #: synthetic images only
    cifar: Optional[Path] = None  #: the folder of CIFAR-10's python batches


class CountingLoader:
    """An iterable of batches that reports each batch it hands out (to move a progress bar)."""

    def __init__(self, batches: Any, on_batch: Callable[[], None]):
        self.batches = batches
        self.on_batch = on_batch

    def __iter__(self):
        for batch in self.batches:
            yield batch
            self.on_batch()

    def __len__(self) -> int:
        return len(self.batches)


def load_module(path: Path) -> ModuleType:
    """Import the student's experiment.py from its file (its folder first on sys.path, for its own imports)."""
    sys.path.insert(0, str(path.parent.resolve()))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_data(module: ModuleType, settings: Settings) -> tuple:
    """(train images, train labels, test images, test labels), from the module's provided data functions."""
    if settings.cifar is not None:
        train = module.load_cifar10(settings.cifar, train=True)
        test = module.load_cifar10(settings.cifar, train=False)
        return (
            train[0][: settings.train_size],
            train[1][: settings.train_size],
            test[0][: settings.test_size],
            test[1][: settings.test_size],
        )
    size = settings.image_size
    train = module.synthetic_images(settings.train_size or 2000, size=size, seed=settings.seed + 1)
    test = module.synthetic_images(settings.test_size or 500, size=size, seed=settings.seed + 2)
    return (*train, *test)


def run_experiment(
    module: ModuleType, settings: Settings, report: Callable[[int, int], None] = lambda done, total: None
) -> dict:
    """Your compare_skip on the data; `report(batches done, batches in all)` after every batch."""
    train_images, train_labels, test_images, test_labels = load_data(module, settings)
    train = module.make_loader(train_images, train_labels, settings.batch_size, shuffle=True)
    test = module.make_loader(test_images, test_labels, settings.batch_size)
    total = 2 * (settings.epochs * len(train) + len(test))  # train and test both networks
    done = itertools.count(1)

    def on_batch() -> None:
        report(next(done), total)

    return module.compare_skip(
        CountingLoader(train, on_batch),
        CountingLoader(test, on_batch),
        epochs=settings.epochs,
        lr=settings.lr,
        seed=settings.seed,
        num_classes=int(max(train_labels.max(), test_labels.max())) + 1,
        width=settings.width,
        blocks=settings.blocks,
    )


def experiment_command(
    cifar: Annotated[
        Optional[Path], typer.Option(help="Folder of CIFAR-10's python batches; default: synthetic images.")
    ] = None,
    epochs: Annotated[int, typer.Option(min=1)] = Settings.epochs,
    lr: Annotated[float, typer.Option(min=0.0)] = Settings.lr,
    width: Annotated[int, typer.Option(min=1, help="Channels of the first stage (ResNet-18: 64).")] = Settings.width,
    blocks: Annotated[str, typer.Option(help="Blocks per stage, comma-separated (ResNet-18: 2,2,2,2).")] = "2,2,2,2",
    batch_size: Annotated[int, typer.Option(min=1)] = Settings.batch_size,
    seed: Annotated[int, typer.Option()] = Settings.seed,
    train_size: Annotated[
        Optional[int], typer.Option(min=1, help="Training images (default: 2000 synthetic, all of CIFAR-10).")
    ] = None,
    test_size: Annotated[
        Optional[int], typer.Option(min=1, help="Test images (default: 500 synthetic, all of CIFAR-10).")
    ] = None,
    image_size: Annotated[int, typer.Option(min=4, help="Side of the synthetic images.")] = Settings.image_size,
    output: Annotated[Path, typer.Option(help="Where your plot_histories writes the plot.")] = Path(
        "skip_connections.png"
    ),
    submission: Annotated[
        Optional[Path], typer.Option(help="Folder of your experiment.py; default: the course's exercises/.")
    ] = None,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Train ResNet with and without skip connections using your experiment.py; plot the training curves."""

    course = load(course_path)
    settings = _settings(cifar, epochs, lr, width, blocks, batch_size, seed, train_size, test_size, image_size)
    path = (submission or course.exercises_dir) / course.exercise("experiment").module
    try:
        histories = _run_with_progress(load_module(path), settings, output)
    except (NotImplementedError, FileNotFoundError) as error:
        errors.print(_problem(error, path), highlight=False, markup=False)
        raise typer.Exit(ExitCode.USAGE) from None
    _print_results(histories, output)
    _print_record(run_record(histories, settings))


def run_record(histories: dict, settings: Settings) -> dict:
    """What experiment.py's RUN holds: the settings in words, then each network's losses and accuracy (4 decimals)."""
    record: dict[str, Any] = {"settings": describe_settings(settings)}
    for name, history in histories.items():
        record[name] = {
            "loss": [round(float(loss), 4) for loss in history["loss"]],
            "accuracy": round(float(history["accuracy"]), 4),
        }
    return record


def describe_settings(settings: Settings) -> str:
    """The run's settings as the options that repeat it: "--epochs 5 --lr 0.05 ... (synthetic 32x32)"."""
    data = f"--cifar {settings.cifar}" if settings.cifar is not None else f"--image-size {settings.image_size}"
    sizes = "".join(
        f" --{option} {value}"
        for option, value in (("train-size", settings.train_size), ("test-size", settings.test_size))
        if value
    )
    return (
        f"grader experiment --epochs {settings.epochs} --lr {settings.lr} --width {settings.width} "
        f"--blocks {','.join(map(str, settings.blocks))} --batch-size {settings.batch_size} "
        f"--seed {settings.seed} {data}{sizes}"
    )


def _print_record(record: dict) -> None:
    import pprint

    if any(len(history["loss"]) < 2 for name, history in record.items() if name != "settings"):
        console.print(
            "\nA run of one epoch has no curve to read: run at least 2 epochs for RUN.", highlight=False, markup=False
        )
        return
    console.print(
        "\nYour run, to paste into experiment.py as it is (then read CONCLUSIONS from it):",
        highlight=False,
        markup=False,
    )
    console.print(
        "RUN = " + pprint.pformat(record, width=100, sort_dicts=False), highlight=False, markup=False, soft_wrap=True
    )


def _settings(cifar, epochs, lr, width, blocks, batch_size, seed, train_size, test_size, image_size) -> Settings:
    try:
        stages = tuple(int(count) for count in blocks.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected counts such as 2,2,2,2 (not {blocks!r})", param_hint="--blocks") from None
    if not stages or min(stages) < 1:
        raise typer.BadParameter(f"every stage needs at least one block (not {blocks!r})", param_hint="--blocks")
    default = Settings()
    return Settings(
        epochs=epochs,
        lr=lr,
        width=width,
        blocks=stages,
        batch_size=batch_size,
        seed=seed,
        train_size=train_size or (None if cifar else default.train_size),
        test_size=test_size or (None if cifar else default.test_size),
        image_size=image_size,
        cifar=cifar,
    )


def _run_with_progress(module: ModuleType, settings: Settings, output: Path) -> dict:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("preparing the data", total=None)

        def report(done: int, total: int) -> None:
            network = "residual" if done <= total // 2 else "plain"
            progress.update(task, completed=done, total=total, description=f"the {network} network")

        histories = run_experiment(module, settings, report)
    output.parent.mkdir(parents=True, exist_ok=True)
    module.plot_histories(histories, str(output))
    return histories


def _print_results(histories: dict, output: Path) -> None:
    from rich.table import Table

    table = Table("network", "first epoch's loss", "last epoch's loss", "test accuracy", box=None)
    for name, history in histories.items():
        losses = list(history["loss"])
        table.add_row(name, f"{losses[0]:.3f}", f"{losses[-1]:.3f}", f"{history['accuracy']:.1%}")
    console.print(table)
    console.print(f"plot written to {output}")


def _problem(error: Exception, path: Path) -> str:
    if isinstance(error, NotImplementedError):
        frame = _last_frame_in(error, path)
        return f"{path.name}: {frame or 'a function'} is not implemented yet (see `grader grade experiment`)"
    return f"cannot run the experiment: {error}"


def _last_frame_in(error: BaseException, path: Path) -> Optional[str]:
    import traceback

    names = [f.name for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve() == path.resolve()]
    return names[-1] if names else None
