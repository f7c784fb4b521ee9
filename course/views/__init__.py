"""The course's views: widgets and figures over the pure logic of the topic modules.

The layers import in one direction only (``tests/test_import_direction.py``): data and
content (``course/data``, :mod:`course.content`) ← logic (the other ``course`` modules)
← views (this package). A topic module such as :mod:`course.skin` computes and describes;
its view here (:mod:`course.views.skin`) draws and wires widgets. ipywidgets and
matplotlib are imported inside the functions that need them, so that a notebook set-up
cell, and every kernel nbgrader starts, stays light.

Notebook glue that hands learners a view (:mod:`course.lesson`) imports it inside the
function that builds it.
"""
