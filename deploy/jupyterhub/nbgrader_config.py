# nbgrader's configuration for every account of the course's hub: the course and its
# exchange. The demo puts it in the users' Jupyter configuration folder
# (MINIGRAD_HUB_STATE/jupyter_config); on a hub of your own, /etc/jupyter/ is the usual place.
# The grader's course directory has the kit's own nbgrader_config.py as well (sandboxed
# autograding), which names the same exchange.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "minigrad-kit"
# One folder every account reaches: mode 1777 (nbgrader documents 0777; the sticky bit also
# stops one account renaming or deleting what another created at the top).
c.Exchange.root = os.environ.get("MINIGRAD_EXCHANGE", "/srv/nbgraderexchange")
# A submission readable by its student and the grader only (nbgrader's own leaves it
# readable by everyone who learns its name): see course_tools/exchange.py.
c.ExchangeFactory.submit = "course_tools.exchange.PrivateSubmit"
# Collect takes a submission only from the account it is named after (nbgrader's own files a
# submission made with `nbgrader submit --student <someone else>` as theirs).
c.ExchangeFactory.collect = "course_tools.exchange.OwnedCollect"
