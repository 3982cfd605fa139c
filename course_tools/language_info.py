"""A Jupyter server extension: notebooks open without the unsaved-changes dot.

The kit stores its notebooks with ``language_info: {"name": "python"}`` only, since the
rest (the Python version above all) depends on the machine. When a notebook's kernel
starts, JupyterLab writes the kernel's full ``language_info`` into the notebook's metadata,
and that change alone marks the notebook as modified: lecture 1 showed the dot before the
student had touched it. This extension fills in, as a notebook is read, the
``language_info`` that ipykernel on this server's Python will report, so that nothing
changes when the kernel starts. Only notebooks whose kernel is this Python's own
(``python3``) are touched, and only in what is sent to the browser, not on disk.

Enabled by the student set-up, ``binder/jupyter_config/jupyter_server_config.json``.
"""

import inspect


def kernel_language_info():
    """What ipykernel's kernel_info_reply says about the language, on this Python."""
    from ipykernel.ipkernel import IPythonKernel
    return dict(IPythonKernel.language_info)


def fill(model, info=None):
    """The contents model with its notebook's language_info completed, when it is ours."""
    if not isinstance(model, dict) or model.get("type") != "notebook":
        return model
    content = model.get("content")
    metadata = content.get("metadata") if isinstance(content, dict) else None
    if not isinstance(metadata, dict):
        return model
    kernelspec = metadata.get("kernelspec") or {}
    language = metadata.get("language_info") or {}
    if kernelspec.get("name", "python3") != "python3" or language.get("name", "python") != "python":
        return model
    metadata["language_info"] = info or kernel_language_info()
    return model


def _patch(contents_manager, log):
    original = contents_manager.get
    if getattr(original, "_fills_language_info", False):
        return
    info = kernel_language_info()

    if inspect.iscoroutinefunction(original):
        async def get(*args, **kwargs):
            return fill(await original(*args, **kwargs), dict(info))
    else:
        def get(*args, **kwargs):
            return fill(original(*args, **kwargs), dict(info))
    get._fills_language_info = True
    contents_manager.get = get
    log.info("course_tools.language_info: notebooks open with this Python's language_info")


def _jupyter_server_extension_points():
    return [{"module": "course_tools.language_info"}]


def _load_jupyter_server_extension(serverapp):
    _patch(serverapp.contents_manager, serverapp.log)
