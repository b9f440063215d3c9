"""A rehearsal of what model exercises make torch do, run once in the engine before it forks.

torch defers much of itself to the first use, and a forked process pays for that first use
again each time: every judge and every student process of a model exercise imported
`torch._dynamo` (about 1.5 s and 80 MB), because torch's optimizers and its Python
reference kernels (what meta-device tensors run on) are wrapped in a lazy `_disable_dynamo`,
and materialising a meta-built model (`to_empty`) cost half a second of first-call set-up.
Rehearsing those paths here, in the engine, before the zygote and the judge server are
forked, makes every fork inherit them: paid once per engine instead of once per process.

The rehearsal draws no random number (meta tensors, fixed values, eval mode, no dropout),
so torch's generator, which the zygote's student processes inherit, is the same with or
without it; nothing of a course is involved.
"""

from __future__ import annotations


def rehearse_models() -> None:
    """Build a small CNN on the meta device, materialise it, run it on both devices, train it a step."""
    import torch
    from torch import nn

    with torch.device("meta"):
        model = _small_cnn(nn)
    model(torch.zeros(2, 3, 8, 8, device="meta"))  # the Python reference kernels (shapes only)
    model = model.to_empty(device="cpu")
    with torch.no_grad():
        for value in model.state_dict().values():
            value.fill_(0.5 if value.is_floating_point() else 0)
    model.eval()
    for optimizer in (torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.Adam(model.parameters())):
        loss = model(torch.ones(2, 3, 8, 8)).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _small_cnn(nn):
    """Every layer kind the course's networks are made of, once."""
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 1, groups=2),
        nn.SiLU(),
        nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(4, 2),
        nn.Sigmoid(),
        nn.Tanh(),
    )
