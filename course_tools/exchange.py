"""A submission only its student and the course's grader can read, on a shared exchange.

nbgrader's exchange (a folder every account of a JupyterHub can reach) keeps students apart
by names: its ``inbound`` folder is mode 2733, so a student can create a submission there but
cannot list what others created, and each submission's name ends in a random string. The
files themselves, though, are left readable by every account (0644 in a 0777 folder), so a
student who learns a name -- from a shared screen, a log, a guess at a timestamp -- can read
or change another's work.

:class:`PrivateSubmit` submits the same way, then takes those rights away: the files become
0640 and the folders 0770, owned by the student, in the group of ``inbound`` (the grader's
group, which the set-group-id bit gives every new submission). The grader collects and
deletes as before; every other account gets "Permission denied".

The files must be in that group before the student's rights over them shrink, and a student,
who is not in the grader's group, cannot put them there with ``chgrp``. Only creating them in
``inbound`` does, while the set-group-id bit is still on their folder: so the submission is
copied file by file (nbgrader's own copy also copies the folders' modes, which drops the
bit, and the files written after it -- ``timestamp.txt`` -- land in the student's group).
Configured on a hub by
``deploy/jupyterhub/nbgrader_config.py``::

    c.ExchangeFactory.submit = "course_tools.exchange.PrivateSubmit"

:class:`OwnedCollect` closes the other way round: nbgrader's ``submit`` takes a ``--student``
option, so a student can hand in *under another's name* (``nbgrader submit ps1 --student
ana``), and nbgrader's ``collect``, which takes each name's latest submission, then files
that one as ana's -- it only logs "cheating attempt?" when the owner differs. The kit's
collect takes a submission only from the account it is named after, and says which ones it
left out and who made them::

    c.ExchangeFactory.collect = "course_tools.exchange.OwnedCollect"
"""

import os
import shutil
import stat

import pwd

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import ignore_patterns

FILE_MODE = stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP                      # 0640
DIR_MODE = stat.S_IRWXU | stat.S_IRWXG                                      # 0770


class PrivateSubmit(ExchangeSubmit):
    """nbgrader's submit, leaving the submission readable by its student and the grader only."""

    def copy_files(self):
        super().copy_files()
        private(os.path.join(self.inbound_path, self.assignment_filename))

    def do_copy(self, src, dest, log=None):
        """nbgrader's copy (its size limits and ignore patterns) without copying modes."""
        size, limit = self.get_size(src), 1000 * self.coursedir.max_dir_size
        if size > limit:
            self.log.error("Directory size is too big")
            raise RuntimeError(f"Directory size is too big. Size is {size}, maximum size is {limit}")
        ignore = ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                 max_file_size=self.coursedir.max_file_size, log=self.log)

        def copy(folder, target):
            os.mkdir(target)       # inherits the parent's group and set-group-id bit
            names = os.listdir(folder)
            skipped = ignore(folder, names)
            for name in names:
                path = os.path.join(folder, name)
                if name in skipped or (os.path.islink(path) and os.path.isdir(path)):
                    continue
                if os.path.isdir(path):
                    copy(path, os.path.join(target, name))
                elif os.path.isfile(path):
                    shutil.copyfile(path, os.path.join(target, name))
        copy(src, dest)


def private(path):
    """Make the tree at ``path`` 0640 files and 0770 folders (deepest first, so the walk
    never loses the right to enter a folder it has yet to change)."""
    folders = []
    for folder, _, files in os.walk(path):
        folders.append(folder)
        for name in files:
            os.chmod(os.path.join(folder, name), FILE_MODE)
    for folder in reversed(folders):
        os.chmod(folder, DIR_MODE)


def _owner(path):
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except KeyError:
        return f"uid {os.stat(path).st_uid}"


class OwnedCollect(ExchangeCollect):
    """nbgrader's collect, taking each student's latest submission among those they made."""

    def _path_to_record(self, path):
        record = super()._path_to_record(path)
        record["owner"] = _owner(path)
        return record

    def _sort_by_timestamp(self, records):
        # nbgrader calls this on each student's submissions and takes the first. Forged ones
        # are left out; a student with none of their own gets a record that copies nothing.
        owned = [r for r in records if r["owner"] == r["username"]]
        for r in records:
            if r not in owned:
                self.log.warning("Not collected: %s is named after %s but was made by %s",
                                 r["filename"], r["username"], r["owner"])
        if owned:
            return super()._sort_by_timestamp(owned)
        return [{"username": records[0]["username"], "filename": None,
                 "timestamp": max(r["timestamp"] for r in records)}]

    def copy_files(self):
        self.src_records = [r for r in self.src_records if r["filename"] is not None]
        super().copy_files()
