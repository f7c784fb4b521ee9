"""``python -m course.forms migrate [PATH…]``: see :mod:`course.forms.migrate`."""

from course.forms.migrate import main

raise SystemExit(main())
