"""Puts a Python process of the test run at ``FEEDER_TEST_DATE`` (see tests/conftest.py).

Python imports ``sitecustomize`` at start-up from its path: the suite puts this folder on
``PYTHONPATH`` for the processes it starts (the real service, the command line), so they
live at the same distant date as the tests, with the clock ticking from there.
"""

import os

if os.environ.get("FEEDER_TEST_DATE"):
    import time_machine

    time_machine.travel(os.environ["FEEDER_TEST_DATE"], tick=True).start()
