"""Plain data across the process boundary between the judge and student code.

Nothing a student's process sends is unpickled or trusted: values travel as JSON
with a small set of tagged types, and `decode` rebuilds fresh numpy arrays and
Python scalars from them. An object whose `__eq__` or `__array__` lies cannot
cross, because only its bytes do. Unknown types arrive as `Unsupported`, so the
judge can say "returned a list, expected an ndarray" instead of crashing.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import struct
from typing import Any, BinaryIO

#: numpy dtype kinds that may cross: bool, ints, unsigned, floats, complex.
PLAIN_DTYPE_KINDS = frozenset("biufc")
_FRAME_HEADER = struct.Struct("!I")
MAX_FRAME_BYTES = 256 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Unsupported:
    """A value of a type that does not cross the boundary; only its type name does."""

    type_name: str


def encode(value: Any) -> Any:
    """Turn a value into JSON-ready plain data (student side)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, tuple) and type(value) is tuple:
        return {"$tuple": [encode(item) for item in value]}
    if type(value) is list:
        return [encode(item) for item in value]
    if type(value) is dict:
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    return _encode_array_like(value)


def _encode_array_like(value: Any) -> Any:
    import numpy as np

    if type(value) is np.ndarray or isinstance(value, np.generic):
        array = np.asarray(value)
        if array.dtype.kind not in PLAIN_DTYPE_KINDS:
            return {"$unsupported": f"numpy.ndarray of dtype {array.dtype}"}
        kind = "$ndarray" if type(value) is np.ndarray else "$npscalar"
        return {
            kind: {
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "data": base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii"),
            }
        }
    module = type(value).__module__.split(".")[0]
    return {
        "$unsupported": f"{module}.{type(value).__qualname__}" if module != "builtins" else type(value).__qualname__
    }


def decode(data: Any) -> Any:
    """Rebuild a value from plain data (judge side): fresh objects of exact types."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError("malformed value on the wire")
    ((tag, body),) = data.items()
    if tag == "$tuple":
        return tuple(decode(item) for item in body)
    if tag == "$dict":
        return {decode(k): decode(v) for k, v in body}
    if tag == "$float":
        return float(body)
    if tag in ("$ndarray", "$npscalar"):
        return _decode_array(body, scalar=tag == "$npscalar")
    if tag == "$unsupported":
        return Unsupported(str(body))
    raise ValueError(f"unknown tag {tag!r} on the wire")


def _decode_array(body: dict, *, scalar: bool) -> Any:
    import numpy as np

    dtype = np.dtype(body["dtype"])
    if dtype.kind not in PLAIN_DTYPE_KINDS:
        raise ValueError(f"dtype {dtype} may not cross the boundary")
    raw = base64.b64decode(body["data"])
    array = np.frombuffer(raw, dtype=dtype).reshape(body["shape"]).copy()
    return array[()] if scalar else array


def describe_type(value: Any) -> str:
    """A student-facing name for the type of a decoded value."""
    import numpy as np

    if isinstance(value, Unsupported):
        return value.type_name
    if isinstance(value, np.ndarray):
        return "numpy.ndarray"
    if isinstance(value, np.generic):
        return f"numpy.{type(value).__name__}"
    return type(value).__name__


def send_message(stream: BinaryIO, message: dict) -> None:
    payload = json.dumps(message, allow_nan=False).encode("utf-8")
    stream.write(_FRAME_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_message(stream: BinaryIO) -> dict:
    """Read one length-prefixed JSON frame; `EOFError` when the other side is gone."""
    header = _read_exactly(stream, _FRAME_HEADER.size)
    (size,) = _FRAME_HEADER.unpack(header)
    if size > MAX_FRAME_BYTES:
        raise ValueError(f"message of {size} bytes is larger than allowed")
    message = json.loads(_read_exactly(stream, size))
    if not isinstance(message, dict):
        raise ValueError("malformed message on the wire")
    return message


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
