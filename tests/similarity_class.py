"""A generated class for course_tools.similarity: honest students and copiers on ps2_vjp_rules.

Each honest student writes every answer cell from independent choices (vectorised or
loops, a lambda or a named closure, which intermediate results get a variable) and names
of their own, so that two honest notebooks share the common idioms but rarely a whole long
answer. A copier takes another student's notebook and disguises it: other names, comments
and docstrings, blank lines, the functions of a cell reordered, a few products swapped,
dead code added, and one answer written afresh. A partial copier takes only some cells.
"""

import copy
import json
import random
import re
from pathlib import Path
from string import Template

PS = "ps2_vjp_rules"
REPO = Path(__file__).resolve().parents[1]

# Answer cells: a header, then slots, each a list of alternatives ($names are the
# student's own). A cell is a list of (header, [slot, ...]) functions plus a tail.
LINEAR = [
    ("def linear_vjp_W(ans, W, x, b):", [["", "assert x.ndim == 2", "assert W.shape[1] == x.shape[1]"], [
        "return lambda $g: $g.T @ x",
        "return lambda $g: np.dot($g.T, x)",
        "def vjp($g):\n        return $g.T @ x\n    return vjp",
        'return lambda $g: np.einsum("ni,nj->ij", $g, x)',
        "return lambda $g: ($g[:, :, None] * x[:, None, :]).sum(axis=0)"]]),
    ("def linear_vjp_x(ans, W, x, b):", [["", "assert W.ndim == 2"], [
        "return lambda $g: $g @ W",
        "return lambda $g: np.dot($g, W)",
        "return lambda $g: np.matmul($g, W)",
        "def vjp($g):\n        $r = $g @ W\n        return $r\n    return vjp"]]),
    ("def linear_vjp_b(ans, W, x, b):", [[
        "return lambda $g: np.sum($g, axis=0)",
        "return lambda $g: $g.sum(axis=0)",
        "return lambda $g: $g.sum(0)",
        "return lambda $g: mg.unbroadcast(b, $g)",
        "return lambda $g: np.ones($g.shape[0]) @ $g"]]),
]
SIGMOID = [("def sigmoid_vjp(ans, x):", [[
    "return lambda $g: $g * ans * (1.0 - ans)",
    "return lambda $g: $g * (ans - ans ** 2)",
    "$s = ans * (1 - ans)\n    return lambda $g: $g * $s",
    "def vjp($g):\n        return $g * ans * (1 - ans)\n    return vjp",
    "return lambda $g: $g * sigmoid(x) * (1 - sigmoid(x))"]])]
SOFTMAX = [("def softmax_vjp(ans, x):", [["", "assert ans.shape == x.shape", "ans = np.asarray(ans)"], [
    "return lambda $g: ans * ($g - np.sum($g * ans, axis=-1, keepdims=True))",
    "def vjp($g):\n        $d = np.sum($g * ans, axis=-1, keepdims=True)\n        return ans * ($g - $d)\n    return vjp",
    "return lambda $g: ans * $g - ans * ($g * ans).sum(axis=-1, keepdims=True)",
    "def vjp($g):\n        $d = ($g * ans).sum(-1, keepdims=True)\n        return ($g - $d) * ans\n    return vjp",
    'def vjp($g):\n        $d = np.einsum("...i,...i->...", $g, ans)[..., None]\n        return ans * ($g - $d)\n    return vjp']])]
LOGSUMEXP = [("@mg.primitive\ndef logsumexp(x, axis=-1, keepdims=False):", [
    ["", "x = np.asarray(x, dtype=float)", "x = np.array(x)", "assert np.all(np.isfinite(x))"],
    ["$c = np.max(x, axis=axis, keepdims=True)",
     "$c = x.max(axis=axis, keepdims=True)",
     "$c = np.amax(x, axis=axis, keepdims=True)"],
    ["$out = np.log(np.sum(np.exp(x - $c), axis=axis, keepdims=True)) + $c",
     "$e = np.exp(x - $c)\n    $out = $c + np.log($e.sum(axis=axis, keepdims=True))",
     "$s = np.sum(np.exp(x - $c), axis=axis, keepdims=True)\n    $out = np.log($s) + $c"],
    ["", "assert np.all(np.isfinite($out))", "$out = np.asarray($out)"],
    ["return $out if keepdims else np.squeeze($out, axis=axis)",
     "if not keepdims:\n        $out = np.squeeze($out, axis=axis)\n    return $out",
     "if keepdims:\n        return $out\n    return np.squeeze($out, axis)",
     "return $out if keepdims else $out.squeeze(axis=axis)"]])]


def _reduction_vjp(header, local):
    """logsumexp's and norm's VJPs: the same shape of answer, a different local factor."""
    return [(header, [
        ["", "x = np.asarray(x)", "x = np.array(x, dtype=float)", "assert ans.ndim <= x.ndim"],
        ["if not keepdims:\n        $axes = tuple(range(x.ndim)) if axis is None else axis\n"
         "        ans = np.expand_dims(ans, $axes)",
         "$axes = tuple(range(x.ndim)) if axis is None else axis\n    if not keepdims:\n"
         "        ans = np.expand_dims(ans, $axes)",
         "$shape = list(x.shape)\n    for $i in (range(x.ndim) if axis is None else np.atleast_1d(axis)):\n"
         "        $shape[$i] = 1\n    $axes = tuple($shape)\n    if not keepdims:\n"
         "        ans = ans.reshape($axes)"],
        local,
        ["", "assert $w.shape == x.shape", "$w = np.asarray($w)"],
        ["def vjp($g):\n        if not keepdims:\n            $g = np.reshape($g, np.shape(ans))\n"
         "        return $g * $w\n    return vjp",
         "def vjp($g):\n        if keepdims:\n            return $g * $w\n"
         "        return $w * np.reshape($g, ans.shape)\n    return vjp",
         "return lambda $g: $w * ($g if keepdims else np.reshape($g, np.shape(ans)))",
         "def vjp($g):\n        $gg = $g if keepdims else np.broadcast_to(np.reshape($g, ans.shape), x.shape)\n"
         "        $res = $gg * $w\n        return $res\n    return vjp"]])]


LOGSUMEXP_VJP = _reduction_vjp("def logsumexp_vjp(ans, x, axis=-1, keepdims=False):", [
    "$w = np.exp(x - ans)", "$w = np.exp(x) / np.exp(ans)",
    "$w = np.exp(x - ans)\n    $w = $w / np.sum($w, axis=axis, keepdims=True)"])
NORM_VJP = _reduction_vjp("def norm_vjp(ans, x, axis=None, keepdims=False):", [
    "$w = x / ans", "$w = x * (1.0 / ans)",
    "$w = np.where(ans == 0, 0.0, x / np.where(ans == 0, 1.0, ans))"])


def _hypot(arg, other):
    return [
        f"return lambda $g: mg.unbroadcast({arg}, $g * {arg} / ans)",
        f"return lambda $g: mg.unbroadcast({arg}, $g * ({arg} / ans))",
        f"$r = {arg} / ans\n    return lambda $g: mg.unbroadcast({arg}, $g * $r)",
        f"def vjp($g):\n        return mg.unbroadcast({arg}, {arg} * $g / ans)\n    return vjp",
        f"return lambda $g: mg.unbroadcast({arg}, $g * {arg} / np.sqrt({arg} ** 2 + {other} ** 2))"]


QUIRKS = ["", "x, y = np.asarray(x), np.asarray(y)", "assert np.all(ans > 0)", "ans = np.asarray(ans)"]
HYPOT = [("def hypot_vjp_x(ans, x, y):", [QUIRKS, _hypot("x", "y")]),
         ("def hypot_vjp_y(ans, x, y):", [QUIRKS, _hypot("y", "x")])]
TRAIN = [("def train_classifier(X, labels, classes, hidden=16, steps=300, lr=0.5, seed=0):", [
    ["", "X = np.asarray(X, dtype=float)", "assert X.ndim == 2, 'X must be a matrix'"],
    ["", "labels = np.asarray(labels, dtype=int)"],
    ["$rng = np.random.default_rng(seed)\n    $params = [0.5 * $rng.standard_normal((hidden, X.shape[1])), "
     "np.zeros(hidden),\n              0.5 * $rng.standard_normal((classes, hidden)), np.zeros(classes)]",
     "$rng = np.random.default_rng(seed)\n    $W1 = $rng.normal(scale=0.5, size=(hidden, X.shape[1]))\n"
     "    $b1 = np.zeros(hidden)\n    $W2 = $rng.normal(scale=0.5, size=(classes, hidden))\n"
     "    $b2 = np.zeros(classes)\n    $params = [$W1, $b1, $W2, $b2]",
     "$rng = np.random.default_rng(seed)\n    $n_in = X.shape[1]\n"
     "    $params = [$rng.standard_normal((hidden, $n_in)) / np.sqrt($n_in), np.zeros(hidden),\n"
     "              $rng.standard_normal((classes, hidden)) / np.sqrt(hidden), np.zeros(classes)]"],
    ["$Y = np.eye(classes)[labels]",
     "$Y = np.zeros((len(labels), classes))\n    $Y[np.arange(len(labels)), labels] = 1.0",
     "$Y = (labels[:, None] == np.arange(classes)).astype(float)"],
    ["", "$n = X.shape[0]"],
    ["def loss(W1, b1, W2, b2):\n        $z = linear(W2, sigmoid(linear(W1, X, b1)), b2)\n"
     "        return mnp.mean(logsumexp($z, axis=-1) - mnp.sum($Y * $z, axis=1))",
     "def loss(W1, b1, W2, b2):\n        $h = sigmoid(linear(W1, X, b1))\n        $z = linear(W2, $h, b2)\n"
     "        $lse = logsumexp($z, axis=1)\n        return mnp.sum($lse - mnp.sum($z * $Y, axis=1)) / X.shape[0]",
     "def loss(*ps):\n        W1, b1, W2, b2 = ps\n        $z = linear(W2, sigmoid(linear(W1, X, b1)), b2)\n"
     "        $logp = $z - logsumexp($z, axis=-1, keepdims=True)\n"
     "        return -mnp.mean(mnp.sum($Y * $logp, axis=-1))"],
    ["$dloss = mg.grad(loss, argnums=(0, 1, 2, 3))", "$dloss = mg.grad(loss, argnums=[0, 1, 2, 3])",
     "$dloss = mg.grad(loss, argnums=tuple(range(4)))"],
    ["for $step in range(steps):\n        $params = [p - lr * dp for p, dp in zip($params, $dloss(*$params))]",
     "for $step in range(steps):\n        $grads = $dloss(*$params)\n"
     "        $params = [p - lr * dp for p, dp in zip($params, $grads)]",
     "for $step in range(steps):\n        $grads = $dloss(*$params)\n        for $i in range(4):\n"
     "            $params[$i] = $params[$i] - lr * $grads[$i]",
     "$step = 0\n    while $step < steps:\n        $grads = $dloss(*$params)\n"
     "        $params = [$params[$i] - lr * $grads[$i] for $i in range(len($params))]\n        $step += 1"],
    ["", "    if $step % 100 == 0:\n            print($step, loss(*$params))"],
    ["return tuple($params)", "$W1, $b1, $W2, $b2 = $params\n    return $W1, $b1, $W2, $b2"]])]

CELLS = {
    "linear_vjp": (LINEAR, "mg.defvjp(linear, linear_vjp_W, linear_vjp_x, linear_vjp_b)"),
    "sigmoid_vjp": (SIGMOID, "mg.defvjp(sigmoid, sigmoid_vjp)"),
    "softmax_vjp": (SOFTMAX, "mg.defvjp(softmax, softmax_vjp)"),
    "logsumexp_forward": (LOGSUMEXP, ""),
    "logsumexp_vjp": (LOGSUMEXP_VJP, "mg.defvjp(logsumexp, logsumexp_vjp)"),
    "hypot_vjp": (HYPOT, "mg.defvjp(hypot, hypot_vjp_x, hypot_vjp_y)"),
    "norm_vjp": (NORM_VJP, "mg.defvjp(norm, norm_vjp)"),
    "train_classifier": (TRAIN, ""),
}
# Each student's own names for the placeholders.
NAMES = {
    "g": ["g", "cot", "upstream", "dout", "gy", "grad_out"],
    "r": ["r", "gx", "result", "dx"], "s": ["s", "local", "deriv", "slope"],
    "d": ["d", "dot", "inner", "proj", "weighted"], "c": ["c", "m", "shift", "mx", "peak"],
    "out": ["out", "res", "y", "lse", "total"], "e": ["e", "ex", "exps", "z"],
    "axes": ["axes", "ax", "dims", "red"], "shape": ["shape", "shp", "kept"],
    "i": ["i", "k", "j", "idx"], "w": ["w", "weights", "unit", "fac", "probs"],
    "gg": ["gg", "g_full", "big"], "res": ["res", "answer", "val"],
    "rng": ["rng", "gen", "random"], "params": ["params", "theta", "ws"],
    "W1": ["W1", "Wa", "w_hidden"], "b1": ["b1", "ba", "b_hidden"], "W2": ["W2", "Wb", "w_out"],
    "b2": ["b2", "bb", "b_out"], "n_in": ["n_in", "d", "fan_in"], "Y": ["Y", "onehot", "targets", "T"],
    "z": ["z", "logits", "scores"], "h": ["h", "hid", "a1"], "lse": ["lse", "norms", "log_z"],
    "logp": ["logp", "log_probs", "lp"], "dloss": ["dloss", "grad_fn", "gradient"],
    "step": ["step", "it", "epoch"], "n": ["n", "n_samples", "count"], "grads": ["grads", "gs", "dparams"],
}
COMMENTS = ["# the chain rule, one factor at a time", "# see lecture 3", "# TODO: check shapes",
            "# vectorised over the batch", "# derivative of the forward pass"]


def student_names(rng):
    return {key: rng.choice(options) for key, options in NAMES.items()}


def write_cell(grade_id, rng, names):
    """One answer cell written from the student's own choices."""
    functions, tail = CELLS[grade_id]
    parts = []
    for header, slots in functions:
        body = "\n    ".join(filter(None, (rng.choice(slot) for slot in slots)))
        comment = f"    {rng.choice(COMMENTS)}\n" if rng.random() < 0.4 else ""
        parts.append(f"{header}\n{comment}    {body}\n")
    text = "\n".join(parts) + (f"\n{tail}\n" if tail else "")
    return Template(text).substitute(names)


def honest(rng):
    names = student_names(rng)
    return {grade_id: write_cell(grade_id, rng, names) for grade_id in CELLS}


# ------------------------------------------------------------------------------ disguises

NEW_NAMES = {"ans": "fwd", "x": "inp", "y": "other"}


def _rename(text, mapping):
    for old, new in mapping.items():
        text = re.sub(rf"(?<![.\w]){re.escape(old)}(?![\w])", new, text)
    return text


def _swap_products(text, count):
    """`a * b` becomes `b * a` in the first `count` places where that means the same."""
    left = [count]

    def swap(m):
        if left[0] <= 0:
            return m.group(0)
        left[0] -= 1
        return f"{m.group(2)} * {m.group(1)}"
    return re.sub(r"(?<![.\w/@%*] )(?<![.\w])(\w+) \* (\w+)(?![\w.(\[])", swap, text)


def _blocks(text):
    """The cell's function definitions (with their decorators) and what follows them."""
    lines, blocks, tail = text.strip("\n").split("\n"), [], []
    for line in lines:
        after_decorator = blocks and blocks[-1][-1].startswith("@")
        if line.startswith("@") or (line.startswith("def ") and not after_decorator):
            blocks.append([line])
        elif line.startswith("def "):
            blocks[-1].append(line)
        elif line and not line.startswith((" ", "#")) and blocks:
            tail.append(line)
        elif blocks and not tail:
            blocks[-1].append(line)
        else:
            tail.append(line)
    return ["\n".join(b).strip("\n") for b in blocks], tail


def disguise(cells, rng, names, rewrite=None):
    """Another student's answers, made to look different; `rewrite` is written afresh."""
    mapping = {value: value + "_" + rng.choice(["v", "t", "new", "my"]) for value in set(names.values())}
    mapping.update(NEW_NAMES)
    out = {}
    for grade_id, text in cells.items():
        if grade_id == rewrite:
            fresh = write_cell(grade_id, rng, student_names(rng))
            while fresh == text:
                fresh = write_cell(grade_id, rng, student_names(rng))
            out[grade_id] = fresh
            continue
        text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
        text = _rename(text, mapping)
        text = _swap_products(text, 2)
        blocks, tail = _blocks(text)
        rng.shuffle(blocks)
        disguised = []
        for block in blocks:
            head, _, body = block.partition(":\n")
            dead = rng.choice(["    unused = np.zeros(3)\n", "    if False:\n        print('debug')\n",
                               "    _tmp = 0\n", ""])
            disguised.append(f'{head}:\n    """My own solution."""\n\n{dead}{body}\n')
        extra = "\n\ndef _check(value):\n    return value is not None\n" if rng.random() < 0.3 else ""
        out[grade_id] = "\n\n\n".join(disguised) + "\n\n" + "\n".join(tail) + extra + "\n"
    return out


# ------------------------------------------------------------------------------ notebooks

def release():
    path = REPO / "assignments" / PS / f"{PS}.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))


def notebook(template, cells):
    nb = copy.deepcopy(template)
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in cells:
            cell["source"] = cells[grade_id]
    return nb


def submit(course, student, nb):
    path = Path(course) / "submitted" / student / PS / f"{PS}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb), encoding="utf-8")
    return path


def make_class(course, honest_count, copiers, partials=(), seed=0):
    """Submit a class; return (honest students, {copier: victim}, {partial: (victim, cells)}).

    `partials` lists, for each partial copier, the cells they take from their victim."""
    rng = random.Random(seed)
    template = release()
    answers, names = {}, {}
    for i in range(honest_count):
        student = f"h{i:03d}"
        names[student] = student_names(rng)
        answers[student] = {g: write_cell(g, rng, names[student]) for g in CELLS}
    victims = rng.sample(sorted(answers), copiers + len(partials))
    copied, partial = {}, {}
    for i, victim in enumerate(victims[:copiers]):
        student = f"c{i:03d}"
        answers[student] = disguise(answers[victim], rng, names[victim],
                                    rewrite=rng.choice(sorted(CELLS)))
        copied[student] = victim
    for i, (victim, taken) in enumerate(zip(victims[copiers:], partials)):
        student = f"p{i:03d}"
        own = {g: write_cell(g, rng, student_names(rng)) for g in CELLS}
        stolen = disguise({g: answers[victim][g] for g in taken}, rng, names[victim])
        own.update(stolen)
        answers[student] = own
        partial[student] = (victim, sorted(taken))
    for student, cells in answers.items():
        submit(course, student, notebook(template, cells))
    return sorted(n for n in answers if n.startswith("h")), copied, partial
