"""Known mistakes in max, average and global average pooling.

Where they come from: the CS231n pooling assignments (max_pool_forward_naive, where
np.pad's zero default and the "reshape trick" that only works for stride == kernel
are the usual slips), forum threads on PyTorch's AvgPool2d ("count_include_pad: why is my
border average different", "MaxPool2d padding is -inf, not 0", "output size rounds down:
ceil_mode"), NCHW/NHWC confusion when porting Keras code (GlobalAveragePooling2D over
axes (1, 2)), and our corpus (tests/engine/corpus/pooling/).

Mistakes local to one function are imitations: they replay the failing call on the
reference. Mistakes in the sliding-window arithmetic that max_pool2d and avg_pool2d
share (students write one helper for both) are detectors: they call the student's two
functions on a small fixed case and compare with what the mistaken code returns there,
also on top of a one-function mistake (average pooling that takes the maximum, with its
windows one pixel apart), so the message says which functions show it, and it is named
on the failing calls to those functions whose arguments can show it (a default stride
only where no stride was given).
"""

import inspect

import numpy as np

from grader.suite import Found, misconception, same_result

POOLING = "Pooling"


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _accepted(reference, name, x, kernel, stride, padding):
    """The reference's answer; raises where the reference refuses (no imitation then)."""
    return getattr(reference, name)(x, kernel, stride, padding)


def _real_pixel_mean(reference, x, kernel, stride, padding):
    """The mean of each window over its real pixels (padding left out)."""
    counts = reference.avg_pool2d(np.ones_like(x), kernel, stride, padding)  # real pixels / (KH * KW)
    return (reference.avg_pool2d(x, kernel, stride, padding) / counts).astype(x.dtype)


def _unlike(mistaken, other):
    """`mistaken`, unless another entry's mistake gives the same answer here: then neither is named."""
    if same_result(mistaken, other):
        raise ValueError("two mistakes give this answer")
    return mistaken


# -- one function: imitations of the failing call -------------------------------------------
@misconception(
    "avg_excludes_padding",
    imitates="avg_pool2d",
    section=POOLING,
    summary="an average over the real pixels only (count_include_pad=False)",
    explanation="the padded zeros count in the mean: every window is divided by KH * KW, "
    "as torch.nn.functional.avg_pool2d does by default",
)
def avg_excludes_padding(reference, x, kernel, stride=None, padding=0):
    if _pair(padding) == (0, 0):
        raise ValueError("without padding every window is full")
    _accepted(reference, "avg_pool2d", x, kernel, stride, padding)
    return _unlike(
        _real_pixel_mean(reference, x, kernel, stride, padding), reference.max_pool2d(x, kernel, stride, padding)
    )


@misconception(
    "avg_takes_max",
    imitates="avg_pool2d",
    section=POOLING,
    summary="max pooling where average pooling is asked",
    explanation="avg_pool2d takes the mean of each window (np.mean), not its largest value",
)
def avg_takes_max(reference, x, kernel, stride=None, padding=0):
    _accepted(reference, "avg_pool2d", x, kernel, stride, padding)
    maximum = reference.max_pool2d(x, kernel, stride, padding)
    if _pair(padding) != (0, 0):
        _unlike(maximum, _real_pixel_mean(reference, x, kernel, stride, padding))
    return maximum


@misconception(
    "max_pads_with_zeros",
    imitates="max_pool2d",
    section=POOLING,
    summary="max pooling over a zero-padded input",
    explanation="a padded 0 beats every negative value on the border; PyTorch pads max pooling "
    "with -inf (np.pad(..., constant_values=-np.inf)), so the padding never wins",
)
def max_pads_with_zeros(reference, x, kernel, stride=None, padding=0):
    ph, pw = _pair(padding)
    if (ph, pw) == (0, 0):
        raise ValueError("no padding, no mistake")
    _accepted(reference, "max_pool2d", x, kernel, stride, padding)
    KH, KW = _pair(kernel)
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return reference.max_pool2d(padded, kernel, (KH, KW) if stride is None else stride, 0)


@misconception(
    "gap_nhwc_axes",
    imitates="global_avg_pool",
    section=POOLING,
    summary="a mean over axes (1, 2), as if x were laid out (N, H, W, C)",
    explanation="x is NCHW: average each feature map over H and W, axes (2, 3), giving shape (N, C)",
)
def gap_nhwc_axes(reference, x):
    reference.global_avg_pool(x)
    return x.mean(axis=(1, 2))


@misconception(
    "gap_keeps_dims",
    imitates="global_avg_pool",
    section=POOLING,
    summary="the right means in shape (N, C, 1, 1)",
    explanation="global_avg_pool returns (N, C): drop keepdims=True (or the trailing 1 x 1), "
    "as the classifier after GAP expects one vector per image",
)
def gap_keeps_dims(reference, x):
    return reference.global_avg_pool(x)[:, :, None, None]


# -- the window arithmetic both poolings share: detectors on a fixed case -----------------------
def _case(dtype=np.float64):
    return np.random.default_rng(7).standard_normal((1, 2, 7, 6)).astype(dtype)


class _Replaced:
    """The reference with one pooling function replaced by a one-function mistake's imitation."""

    def __init__(self, reference, name, imitation):
        self._reference, self._name, self._imitation = reference, name, imitation

    def __getattr__(self, name):
        if name == self._name:
            return lambda *args, **kwargs: self._imitation(self._reference, *args, **kwargs)
        return getattr(self._reference, name)


def _bases(reference, name):
    """The reference, then the reference with each one-function mistake of `name` made: a window mistake
    shows in avg_pool2d also when that function takes the maximum of its (wrong) windows."""
    return [reference] + [_Replaced(reference, name, imitation) for imitation in _ONE_FUNCTION.get(name, ())]


def _shows(student, base, name, mistaken, calls):
    """Whether `student.<name>` gives, on every call, what `mistaken` gives on `base`, where `base` itself does not."""
    for args, kwargs in calls:
        try:
            wrong = mistaken(base, name, *args, **kwargs)
            plain = getattr(base, name)(*args, **kwargs)
        except Exception:  # noqa: BLE001 - an imitation that does not apply to this case: not this base
            return False
        try:
            got = getattr(student, name)(*args, **kwargs)
        except Exception:  # noqa: BLE001 - a function that raises here does not show this mistake
            return False
        if not same_result(got, wrong) or same_result(wrong, plain):
            return False
    return True


def _showing(student, reference, mistaken, calls):
    """The pooling functions whose output on `calls` is the mistaken one (and not the right one), alone or
    together with a one-function mistake: a `Found` naming them, or False."""
    found = [
        name
        for name in ("max_pool2d", "avg_pool2d")
        if any(_shows(student, base, name, mistaken, calls) for base in _bases(reference, name))
    ]
    return Found(" and ".join(found), tuple(found)) if found else False


def _window(x, kernel, stride=None, padding=0):
    """The parameters of max_pool2d and avg_pool2d (a signature to bind a failing call's arguments to)."""


def _pooling_call(condition):
    """An `explains` predicate: a call of max_pool2d or avg_pool2d whose arguments satisfy `condition`."""

    def explains(call):
        if call.function not in ("max_pool2d", "avg_pool2d"):
            return False
        arguments = inspect.signature(_window).bind(*call.args, **call.kwargs)
        arguments.apply_defaults()
        return bool(condition(**arguments.arguments))

    return explains


def _stride(kernel, stride):
    return _pair(kernel if stride is None else stride)


def _rounds_down(x, kernel, stride, padding):
    """Some side where the windows do not tile the padded input exactly (a partial window is dropped)."""
    return any(
        (size + 2 * p - k) % s
        for size, k, s, p in zip(x.shape[2:], _pair(kernel), _stride(kernel, stride), _pair(padding))
    )


@misconception(
    "default_stride_one",
    explains=_pooling_call(lambda x, kernel, stride, padding: stride is None),
    section=POOLING,
    summary="moves the window one pixel at a time in {found} when no stride is given",
    explanation="stride=None means the stride is the kernel, as in torch.nn.MaxPool2d: "
    "windows side by side, so kernel 2 halves the size",
)
def default_stride_one(student, reference):
    def mistaken(reference, name, x, kernel):
        return getattr(reference, name)(x, kernel, 1)

    return _showing(student, reference, mistaken, [((_case(), 2), {}), ((_case(), 3), {})])


@misconception(
    "stride_ignored",
    explains=_pooling_call(lambda x, kernel, stride, padding: _stride(kernel, stride) != _pair(kernel)),
    section=POOLING,
    summary="moves the window by the kernel size in {found}, whatever the stride",
    explanation="the window moves by the stride you are given (windows overlap when it is "
    "smaller than the kernel); only stride=None means the kernel",
)
def stride_ignored(student, reference):
    def mistaken(reference, name, x, kernel, stride):
        return getattr(reference, name)(x, kernel, None)

    return _showing(student, reference, mistaken, [((_case(), 3, 1), {}), ((_case(), 2, 1), {})])


@misconception(
    "stride_pair_transposed",
    explains=_pooling_call(lambda x, kernel, stride, padding: len(set(_stride(kernel, stride))) == 2),
    section=POOLING,
    summary="reads a stride pair (sh, sw) as (sw, sh) in {found}",
    explanation="stride=(sh, sw) moves sh rows down and sw columns right",
)
def stride_pair_transposed(student, reference):
    def mistaken(reference, name, x, kernel, stride):
        return getattr(reference, name)(x, kernel, stride[::-1])

    return _showing(student, reference, mistaken, [((_case(), 2, (1, 2)), {}), ((_case(), 2, (2, 1)), {})])


@misconception(
    "kernel_pair_square",
    explains=_pooling_call(lambda x, kernel, stride, padding: len(set(_pair(kernel))) == 2),
    section=POOLING,
    summary="pools with a square KH x KH window in {found} for a kernel pair (KH, KW)",
    explanation="kernel=(KH, KW) is KH rows by KW columns; read both sides (and the default stride is the pair too)",
)
def kernel_pair_square(student, reference):
    def mistaken(reference, name, x, kernel):
        return getattr(reference, name)(x, (kernel[0], kernel[0]))

    return _showing(student, reference, mistaken, [((_case(), (2, 3)), {}), ((_case(), (3, 1)), {})])


def _ceil_windows(reference, name, x, kernel, stride):
    """Output size rounded up, the last window cut short by slicing past the edge."""
    reduce = np.max if name == "max_pool2d" else np.mean
    N, C, H, W = x.shape
    H_out, W_out = -(-(H - kernel) // stride) + 1, -(-(W - kernel) // stride) + 1
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = reduce(
                x[:, :, i * stride : i * stride + kernel, j * stride : j * stride + kernel], axis=(2, 3)
            )
    return out


@misconception(
    "output_size_rounded_up",
    explains=_pooling_call(_rounds_down),
    section=POOLING,
    summary="rounds the output size up in {found}, keeping a last window that hangs over the edge",
    explanation="H' = 1 + (H + 2P - K) // S rounds down: a window that does not fit is dropped, "
    "as PyTorch does unless ceil_mode=True",
)
def output_size_rounded_up(student, reference):
    return _showing(student, reference, _ceil_windows, [((_case(), 2, 2), {}), ((_case(), 3, 2), {})])


@misconception(
    "float64_output",
    explains=_pooling_call(lambda x, kernel, stride, padding: x.dtype == np.float32),
    section=POOLING,
    summary="returns float64 in {found} for a float32 input",
    explanation="np.zeros and np.empty default to float64: allocate the output with x.dtype",
)
def float64_output(student, reference):
    def mistaken(reference, name, x, kernel):
        return getattr(reference, name)(x, kernel).astype(np.float64)

    return _showing(student, reference, mistaken, [((_case(np.float32), 2), {})])


#: The one-function mistakes a window mistake may come with, by the function they are made in.
_ONE_FUNCTION = {"max_pool2d": (max_pads_with_zeros,), "avg_pool2d": (avg_takes_max, avg_excludes_padding)}
