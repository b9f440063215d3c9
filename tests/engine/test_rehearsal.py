"""The engine's rehearsal: torch's lazy first uses are paid once, in the engine, not in every fork.

What a model exercise makes torch do the first time (its optimizers and its meta-device kernels
import `torch._dynamo`; `to_empty` sets itself up) is rehearsed before the engine forks, so that
judges and student processes inherit it. The rehearsal must leave no trace a grading could see.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

import torch
from support import ROOT

from grader.course.manifest import load_course
from grader.engine import warm
from grader.engine.plugin import preload
from grader.engine.rehearsal import rehearse_models
from grader.engine.runner import runs_torch
from grader.engine.zygote import DEFAULT_PRELOAD, builds_models


def in_a_fork(work):
    """`work()`'s JSON-able answer, computed in a forked child of this (the engine's) process."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read)
            os.write(write, json.dumps(work()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = json.loads(pipe.read() or "null")
    os.waitpid(pid, 0)
    return answer


def test_a_fork_of_the_engine_trains_and_builds_on_meta_without_importing_anything():
    """A fork of the (rehearsed) engine runs an optimizer step, a meta-device forward and `to_empty`
    with the modules it inherited: nothing of torch is imported again per judge or per student."""
    warm.shared()  # the tests' engine: rehearsed, as for every course with model exercises

    def first_model_work():
        loaded = set(sys.modules)
        net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten())
        step = torch.optim.SGD(net.parameters(), lr=0.1)
        net(torch.ones(1, 1, 4, 4)).sum().backward()
        step.step()
        with torch.device("meta"):
            on_meta = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
        on_meta(torch.zeros(1, 3, device="meta"))
        on_meta.to_empty(device="cpu")
        return sorted(set(sys.modules) - loaded)

    assert in_a_fork(first_model_work) == []


def test_the_rehearsal_draws_no_random_number():
    """Student processes inherit torch's generator from the zygote: rehearsed or not, it is the same."""

    def generator_unchanged():
        before = torch.get_rng_state().clone()
        rehearse_models()
        return torch.equal(torch.get_rng_state(), before)

    assert in_a_fork(generator_unchanged) is True


def test_only_courses_whose_stubs_import_torch_are_rehearsed_for(tmp_path):
    """`grade conv` (numpy) skips the rehearsal, which would cost it more than it saves; every model
    exercise, and the whole course, get it; a stub that is missing or broken counts as torch."""
    course = load_course(ROOT)
    assert not runs_torch(course, ("conv",))
    assert not runs_torch(course, ("conv", "pooling", "scaling", "quiz1"))
    assert runs_torch(course, ("lenet",))
    assert runs_torch(course, ())
    elsewhere = dataclasses.replace(course, root=tmp_path)  # the same course, its stubs not written yet
    assert runs_torch(elsewhere, ("conv",))
    (tmp_path / course.info.exercises).mkdir()
    (tmp_path / course.info.exercises / "conv.py").write_text("def conv2d(:\n")
    assert runs_torch(elsewhere, ("conv",))


def test_a_zygote_of_its_own_rehearses_only_for_references_that_build_models():
    """The course check starts a zygote per judge (`Zygote.start_fresh`, preloading what the reference
    imports): conv, pooling and scaling (numpy; torch only to forbid it) are not worth a rehearsal."""
    course = load_course(ROOT)
    rehearsed = {e.id for e in course.exercises if builds_models(preload(course, e))}
    assert rehearsed.isdisjoint({"conv", "pooling", "scaling"})
    assert {"lenet", "alexnet", "vgg", "residual", "efficientnet", "design", "experiment"} <= rehearsed
    assert not builds_models(DEFAULT_PRELOAD)
