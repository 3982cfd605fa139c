"""Record in the student's kernel, replay in the grader's own process.

Under grading, the grader starts every kernel with two environment variables: the folder
of a *channel* (bound read-write into the sandbox) and a *seed* drawn at grading time. A
check called by a test cell then works in two halves:

- **in the kernel** (``record``): the check runs as usual, but every answer the student's
  code gives (through :func:`student_outcome`) is also written down, as plain JSON data,
  into one file of the channel per check;
- **on the host** (``replay``, :mod:`course_tools.grading.judge`): a clean process of the
  grader runs the same check, with the same seed, on the same inputs; where it would call
  the student's code it takes the next recorded answer instead, and it computes every
  reference and every verdict itself.

So the kernel can only ever supply *answers*. Whatever it does to the check's code, the
comparison, the exception that signals a failure, or the records themselves, the verdict
comes from the grader's process. Answers recorded for questions other than the ones the
grader asks (the kernel changed the inputs, skipped a call, called twice) fail the test:
the replay must consume exactly the recorded answers, in order.

Records hold only JSON: arrays as lists of numbers with their shape, numbers, strings,
tuples, lists, dicts, a placeholder for a function the student returned (called through
the channel in turn), and the type name of anything else. No pickle: reading a record
cannot run code.
"""

import hashlib
import inspect
import json
import math
import os

import numpy as np

ENV_CHANNEL = "MINIGRAD_GRADING_CHANNEL"
ENV_SEED = "MINIGRAD_GRADING_SEED"
MAX_DEPTH = 20
MAX_ENTRIES = 2_000_000      # numbers in one record, all arrays together


class GradingError(AssertionError):
    """A check failed; the message says what is wrong and where to look.

    In a notebook, IPython shows it as the line of the test cell that failed and the
    message, without the grader's own frames (``_render_traceback_`` is IPython's hook for
    an exception's own traceback).
    """

    def _render_traceback_(self):
        red, bold, reset = "\x1b[31m", "\x1b[1m", "\x1b[0m"
        lines = []
        tb, cell = self.__traceback__, None
        # the cell's own frame: the last one before the call entered this package
        package = os.path.dirname(os.path.abspath(__file__)) + os.sep
        while tb is not None and not os.path.abspath(
                tb.tb_frame.f_code.co_filename).startswith(package):
            cell, tb = tb, tb.tb_next
        if cell is not None:
            try:
                import linecache
                text = linecache.getline(cell.tb_frame.f_code.co_filename, cell.tb_lineno).strip()
            except Exception:  # noqa: BLE001 - the line is a nicety
                text = ""
            if text:
                lines.append(f"{bold}line {cell.tb_lineno}:{reset} {text}")
        return lines + [f"{red}{bold}{type(self).__name__}{reset}: {self}"]


class ReplayDiverged(GradingError):
    """The recorded answers do not match the questions the grader's replay asks."""


class _State:
    mode = None            # None (not grading), "record" (kernel) or "replay" (judge)
    channel = None
    grader_seed = None
    active = None          # the Recording of the check now running, outermost only
    written = 0


STATE = _State()


def start_recording_from_environment(environ=os.environ):
    """In a kernel started by the grader: record answers into its channel."""
    channel, seed = environ.get(ENV_CHANNEL), environ.get(ENV_SEED)
    if channel and seed and seed.isdigit():
        STATE.mode, STATE.channel, STATE.grader_seed = "record", channel, int(seed)


def grading_seed(key):
    """The seed of a hidden test under grading: the grader's seed and the check's key."""
    if STATE.grader_seed is None:
        return None
    digest = hashlib.blake2b(f"{STATE.grader_seed}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 2


def check_key(fn, args, kwargs):
    """The check's name and its arguments that are not functions, in a fixed form.

    The kernel computes it from the values the test cell passed, the judge from the
    literals in the test cell's source: the student's functions are left out of both.
    """
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()
        items = bound.arguments.items()
    except TypeError:
        items = [(str(i), a) for i, a in enumerate(args)] + sorted(kwargs.items())
    parts = [f"{name}={value!r}" for name, value in items if not callable(value)]
    return fn.__name__ + "(" + ", ".join(parts) + ")"


class Recording:
    def __init__(self, check, key, calls=None):
        self.check = check
        self.key = key
        self.calls = [] if calls is None else calls
        self.position = 0
        self.functions = []      # record mode: the student's returned functions, by index
        self.entries = 0


def judged(check):
    """Wrap a public check so that, under grading, it records (kernel) or replays (judge)."""
    def run(*args, **kwargs):
        if STATE.mode is None or STATE.active is not None:
            return check(*args, **kwargs)
        if STATE.mode == "replay":
            raise ReplayDiverged("the judge starts replays with replay(), not by calling checks")
        recording = Recording(check.__name__, check_key(check, args, kwargs))
        STATE.active = recording
        try:
            return check(*args, **kwargs)
        finally:
            STATE.active = None
            _write(recording)
    run.__name__, run.__qualname__, run.__doc__ = check.__name__, check.__qualname__, check.__doc__
    run.__wrapped__ = check
    run.__signature__ = inspect.signature(check)
    return run


def _write(recording):
    STATE.written += 1
    record = {"check": recording.check, "key": recording.key, "calls": recording.calls}
    path = os.path.join(STATE.channel, f"{os.getpid()}-{STATE.written:06d}.json")
    try:
        with open(path + ".part", "w") as f:
            json.dump(record, f)
        os.replace(path + ".part", path)
    except (OSError, TypeError, ValueError):
        pass   # nothing recorded: the judge fails this check ("did not run")


def replay(check, args, kwargs, record, grader_seed):
    """Run `check` on the host, answering its calls to student code from `record`."""
    STATE.mode, STATE.grader_seed = "replay", grader_seed
    recording = Recording(record.get("check"), check_key(check, args, kwargs),
                          list(record.get("calls") or []))
    STATE.active = recording
    try:
        result = check.__wrapped__(*args, **kwargs)
        if recording.position != len(recording.calls):
            raise ReplayDiverged(
                f"the kernel recorded {len(recording.calls)} answers for this check, and the "
                f"grader asked {recording.position} questions")
        return result
    finally:
        STATE.active = None


# ------------------------------------------------------------------------------ outcomes

class StudentRaised(Exception):
    """The student's code raised: the exception's type name and its message."""

    def __init__(self, type_name, text, not_implemented=False):
        super().__init__(text)
        self.type_name, self.text, self.not_implemented = type_name, text, not_implemented


def student_outcome(fn, args, kwargs, guard):
    """Call the student's `fn` inside `guard` (a context manager); record or replay it.

    Returns the value (as plain data under grading) or raises StudentRaised.
    """
    recording = STATE.active
    if STATE.mode == "replay" and recording is not None:
        if recording.position >= len(recording.calls):
            raise ReplayDiverged(
                "the grader asked the student's code a question the kernel never answered: "
                "the test ran differently in the notebook")
        answer = recording.calls[recording.position]
        recording.position += 1
        if isinstance(answer, dict) and "raised" in answer:
            kind, text, not_implemented = (list(answer["raised"]) + ["", "", False])[:3]
            raise StudentRaised(str(kind), str(text), bool(not_implemented))
        if not isinstance(answer, dict) or "value" not in answer:
            raise ReplayDiverged("a recorded answer is not in the channel's format")
        return decode(answer["value"], recording)
    try:
        with guard():
            value = fn(*args, **kwargs)
    except StudentRaised:
        raise
    except BaseException as exc:  # noqa: BLE001 - whatever student code raises
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        not_implemented = isinstance(exc, NotImplementedError)
        try:
            kind, text = type(exc).__name__, str(exc)
        except Exception:  # noqa: BLE001 - a __str__ that raises
            kind, text = type(exc).__name__, "(the exception's message could not be read)"
        if STATE.mode == "record" and recording is not None:
            recording.calls.append({"raised": [kind, text[:20_000], not_implemented]})
        raise StudentRaised(kind, text, not_implemented) from None
    if STATE.mode == "record" and recording is not None:
        data = encode(value, recording)
        recording.calls.append({"value": data})
        return decode(data, recording)
    return value


# ------------------------------------------------------------------------------ data

_KINDS = {"f": np.float64, "i": np.int64, "u": np.int64, "b": np.bool_, "c": np.complex128}


def _number(x):
    if isinstance(x, float) and not math.isfinite(x):
        return {"float": repr(x)}
    return x


def _unnumber(x):
    if isinstance(x, dict) and "float" in x:
        return float(x["float"]) if x["float"] in ("nan", "inf", "-inf") else 0.0
    return x


def encode(value, recording, depth=0):
    """What the student returned, as JSON data (see the module's docstring)."""
    if depth > MAX_DEPTH:
        return {"object": "nested too deeply"}
    if value is None or isinstance(value, (bool, str)):
        return value if not isinstance(value, str) else value[:100_000]
    if type(value) in (int, float):
        return _number(value) if abs(value) < 1e300 or type(value) is float else {"object": "int"}
    if isinstance(value, complex):
        return {"complex": [_number(value.real), _number(value.imag)]}
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in _KINDS:
        arr = np.array(value, copy=True, subok=False)
        recording.entries += arr.size
        if recording.entries > MAX_ENTRIES:
            return {"object": "too large an array"}
        kind = arr.dtype.kind
        if kind == "c":
            flat = [[_number(z.real), _number(z.imag)] for z in arr.ravel().tolist()]
        else:
            flat = [_number(x) for x in arr.astype(_KINDS[kind]).ravel().tolist()]
        return {"array": flat, "shape": list(arr.shape), "kind": kind,
                "scalar": isinstance(value, np.generic)}
    if type(value) in (tuple, list):
        return {"tuple" if type(value) is tuple else "list":
                [encode(v, recording, depth + 1) for v in value[:10_000]]}
    if type(value) is dict:
        return {"dict": [[encode(k, recording, depth + 1), encode(v, recording, depth + 1)]
                         for k, v in list(value.items())[:10_000]]}
    if callable(value):
        recording.functions.append(value)
        return {"function": len(recording.functions) - 1}
    name = type(value).__name__
    try:
        arr = np.array(value, dtype=np.float64, copy=True, subok=False)
    except Exception:  # noqa: BLE001 - not numeric: only its type name travels
        return {"object": name}
    return {"object": name, "numeric": encode(arr, recording, depth + 1)}


class ReturnedFunction:
    """A function the student's code returned, replayed through the channel when called."""

    def __init__(self, index):
        self.index = index

    def __call__(self, *args, **kwargs):
        raise ReplayDiverged("a returned function must be called through the grader")


class Opaque:
    """Something the student returned that is neither data nor a function."""

    def __init__(self, numeric=None):
        self._numeric = numeric

    def __array__(self, dtype=None, copy=None):
        if self._numeric is None:
            raise TypeError(f"{type(self).__name__} is not a numeric array")
        return self._numeric if dtype is None else self._numeric.astype(dtype)


def _opaque(name, numeric):
    cls = type(name if name.isidentifier() else "object", (Opaque,), {})
    return cls(numeric)


def decode(data, recording, depth=0):
    if depth > MAX_DEPTH + 2:
        return _opaque("object", None)
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if not isinstance(data, dict) or len(data) == 0:
        return _opaque("object", None)
    if "float" in data:
        return _unnumber(data)
    if "complex" in data:
        re, im = (list(data["complex"]) + [0, 0])[:2]
        return complex(_unnumber(re), _unnumber(im))
    if "array" in data:
        kind = data.get("kind", "f")
        shape = tuple(int(d) for d in data.get("shape", ()))
        flat = data["array"]
        if kind not in _KINDS or not isinstance(flat, list) or math.prod(shape) != len(flat) \
                or any(d < 0 for d in shape):
            return _opaque("object", None)
        if kind == "c":
            values = [complex(_unnumber(a), _unnumber(b)) for a, b in flat]
        else:
            values = [_unnumber(x) for x in flat]
        arr = np.array(values, dtype=_KINDS[kind]).reshape(shape)
        return arr[()] if data.get("scalar") else arr
    if "tuple" in data:
        return tuple(decode(v, recording, depth + 1) for v in data["tuple"])
    if "list" in data:
        return [decode(v, recording, depth + 1) for v in data["list"]]
    if "dict" in data:
        out = {}
        for pair in data["dict"]:
            k, v = decode(pair[0], recording, depth + 1), decode(pair[1], recording, depth + 1)
            try:
                out[k] = v
            except TypeError:
                pass
        return out
    if "function" in data:
        index = data["function"]
        if STATE.mode == "record" and isinstance(index, int) and 0 <= index < len(recording.functions):
            return recording.functions[index]
        return ReturnedFunction(index)
    if "object" in data:
        numeric = data.get("numeric")
        numeric = decode(numeric, recording, depth + 1) if numeric is not None else None
        return _opaque(str(data["object"]), numeric if isinstance(numeric, np.ndarray) else None)
    return _opaque("object", None)
