"""Runs inside each grading kernel before the first cell of a submission.

A submission's cells and the tests that grade it share one Python process, so a cell can
rebind ``numpy.allclose``, ``minigrad.check_grads``, ``course_tools.grading.check_vjp_maker``,
``sys.modules['course_tools.grading']`` or a builtin before the tests run. This module takes a
snapshot of those bindings when the kernel starts, while nothing but the kit's own code has
run, and after every cell:

- puts back every binding that changed (a module attribute, a function's ``__code__`` or
  defaults, an entry of ``course_tools.grading``'s tables, a ``sys.modules`` entry, a notebook
  name that was bound to the grading module or one of its functions), so whatever a cell
  replaced is the original again when the next cell starts;
- writes one line to the cell's stderr naming what was replaced. In a test cell, stderr
  output costs that test its points (nbgrader's rule): a test whose comparisons were
  replaced while it ran (by a student function it called) earns nothing.

``exit()`` and ``quit()`` are ignored (with a line on stderr): the kernel would otherwise
stop a moment later, in whichever cell happened to be running, and the score would depend
on timing.

Importing ``course_tools.grading`` here, before any student code, is also what lets that module
take its private references to numpy's functions from an untouched numpy.

Only bindings are watched, not data: state that honest code changes (numpy's print options,
random seeds, the rules registered with ``mg.defvjp``) is left alone. A cell that sets out to
defeat this guard (through ``gc``, ``ctypes`` or IPython's event hooks) can; the grading
command lists such names in a submission for a person to read.

The grading command loads this file with ``runpy.run_path`` and calls :func:`install`; it is
not imported as part of ``course_tools`` (the kernel may not have the repository on its path).
"""

import builtins
import importlib
import sys
import types

MARKER = "GRADING GUARD:"

# Modules whose bindings are watched, besides every minigrad module loaded at start.
_PLAIN_MODULES = ("builtins", "math", "numpy", "numpy.testing", "numpy.linalg", "numpy.random")
_GRADING = "course_tools.grading"


def _is_grading(name):
    """The grading package or one of its modules (_core, ops, rules, ..., engine)."""
    return isinstance(name, str) and (name == _GRADING or name.startswith(_GRADING + "."))

# Builtins that IPython and ipykernel themselves swap around each cell.
_MANAGED_BUILTINS = {"exit", "quit", "get_ipython", "input", "_", "__", "___"}


def _watchable(value):
    """Bindings worth watching: code and modules, not data that honest code may update."""
    return callable(value) or isinstance(value, types.ModuleType)


class _Snapshot:
    def __init__(self, modules):
        self.modules = modules                      # name -> module
        self.bindings = {}                          # name -> {attr: value}
        self.code = {}                              # function -> (code, defaults, kwdefaults)
        self.tables = []                            # (label, dict, {key: value})
        self.objects = []                           # (label, obj, {attr: value})
        self.classes = []                           # (label, cls, {attr: value})
        for name, module in modules.items():
            entries = {k: v for k, v in vars(module).items() if _watchable(v)
                       and not (name == "builtins" and k in _MANAGED_BUILTINS)}
            self.bindings[name] = entries
            for attr, value in entries.items():
                if isinstance(value, types.FunctionType) and value not in self.code:
                    # first name wins: the package's (course_tools.grading._close) comes
                    # before the module that defines it (course_tools.grading._core)
                    self.code[value] = (f"{name}.{attr}", value.__code__, value.__defaults__,
                                        value.__kwdefaults__)
        for name, module in modules.items():
            if _is_grading(name):
                self._snapshot_grading(name, module)

    def _snapshot_grading(self, name, grading):
        """A grading module's tables (OPS) and the objects and classes in them."""
        for attr, value in vars(grading).items():
            label = f"{name}.{attr}"
            if isinstance(value, dict):
                if attr == "__builtins__" and value is vars(builtins):
                    continue   # a module without a private copy: the builtins module is watched
                self.tables.append((label, value, dict(value)))
                for key, item in value.items():
                    if _is_grading(getattr(type(item), "__module__", None)) and hasattr(item, "__dict__"):
                        self.objects.append((f"{label}[{key!r}]", item, dict(vars(item))))
            elif isinstance(value, type) and _is_grading(value.__module__):
                self.classes.append((label, value, dict(vars(value))))

    def restore(self):
        """Put back every changed binding; return the names of those that had changed."""
        changed = []
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                changed.append(f"sys.modules[{name!r}]")
                sys.modules[name] = module
            current = vars(module)
            for attr, value in self.bindings[name].items():
                if current.get(attr, _MISSING) is not value:
                    changed.append(f"{name}.{attr}")
                    try:
                        setattr(module, attr, value)
                    except Exception:  # noqa: BLE001 - keep restoring the rest
                        current[attr] = value
        for function, (label, code, defaults, kwdefaults) in self.code.items():
            if (function.__code__ is not code or function.__defaults__ is not defaults
                    or function.__kwdefaults__ is not kwdefaults):
                changed.append(f"{label}.__code__")
                function.__code__ = code
                function.__defaults__ = defaults
                function.__kwdefaults__ = kwdefaults
        for label, table, items in self.tables:
            for key, value in items.items():
                if table.get(key, _MISSING) is not value:
                    changed.append(f"{label}[{key!r}]")
                    table[key] = value
        for label, obj, attrs in self.objects:
            current = vars(obj)
            for attr, value in attrs.items():
                if current.get(attr, _MISSING) is not value:
                    changed.append(f"{label}.{attr}")
                    current[attr] = value
        for label, cls, attrs in self.classes:
            current = vars(cls)
            for attr, value in attrs.items():
                if current.get(attr, _MISSING) is not value:
                    changed.append(f"{label}.{attr}")
                    setattr(cls, attr, value)
        return changed


_MISSING = object()


def _load_modules():
    modules = {}
    for name in _PLAIN_MODULES + ("minigrad", "minigrad.numpy", _GRADING):
        try:
            modules[name] = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a course without minigrad still gets the rest
            pass
    for name, module in list(sys.modules.items()):
        if (name == "minigrad" or name.startswith("minigrad.") or _is_grading(name)) and \
                isinstance(module, types.ModuleType):
            modules[name] = module
    return modules


def install(shell=None):
    """Take the snapshot and check it after every cell of this IPython shell."""
    if shell is None:
        shell = get_ipython()  # noqa: F821 - provided by IPython in the kernel
    snapshot = _Snapshot(_load_modules())
    grading = snapshot.modules.get(_GRADING)
    grading_values = {}
    if grading is not None:
        # The module and what it defines (not the modules and functions it imported).
        grading_values = {id(v): v for v in vars(grading).values()
                          if _watchable(v) and _is_grading(getattr(v, "__module__", None))}
        grading_values[id(grading)] = grading
    protected = {}        # notebook names bound to the grading module or its functions
    stderr = sys.stderr   # the cell's stderr as it is now, before any cell can replace it
    write, flush = stderr.write, stderr.flush

    def check(result=None):
        changed = snapshot.restore()
        user_ns = shell.user_ns
        for name, value in protected.items():
            if user_ns.get(name, _MISSING) is not value:
                changed.append(f"the notebook name {name!r}")
                user_ns[name] = value
        for name, value in list(user_ns.items()):
            if id(value) in grading_values and grading_values[id(value)] is value:
                protected.setdefault(name, value)
        if changed:
            write(f"{MARKER} replaced {', '.join(changed)} (put back after this cell)\n")
            flush()

    def ignore_exit():
        # exit() would end the kernel a moment later, in whichever cell is running then:
        # the score would depend on timing. Ignore it, so the rest of the notebook is graded.
        write(f"{MARKER} exit() ignored while grading\n")
        flush()

    shell.ask_exit = ignore_exit
    shell.events.register("post_run_cell", check)
    return check
