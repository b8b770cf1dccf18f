"""paraclone's Django test runner.

paraclone builds the test database once (``manage.py migrate`` on the
template), clones it for every worker and starts ``manage.py test`` in each
worker with the clone's URL in ``DATABASE_URL`` (and ``DATABASE_URL_<ALIAS>``).
This runner, selected with ``--testrunner paraclone_django.ParacloneRunner``
(paraclone puts it on ``PYTHONPATH``), makes Django use those databases as
they are: it creates no test database and destroys none. Settings must read
their databases from the environment, e.g. with dj-database-url::

    DATABASES = {"default": dj_database_url.config(default="sqlite:///db.sqlite3")}

With ``PARACLONE_DJANGO_LIST=1`` it only lists the test ids that Django's
own loader finds for the given labels (tags and ``-k`` patterns apply), one
per line after ``PARACLONE-TEST ``, and touches no database. With
``PARACLONE_JUNIT=<path>`` it writes each test's result there as JUnit XML.
"""

import os
import sys
import time
import traceback
import unittest
from xml.sax.saxutils import escape, quoteattr

from django.test.runner import DiscoverRunner

ID_MARK = "PARACLONE-TEST "


def _iter_tests(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _iter_tests(test)
        else:
            yield test


class _JUnitResult(unittest.TextTestResult):
    """A text result that also remembers every test's verdict and time."""

    cases = []

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def _record(self, test, verdict, message="", text=""):
        elapsed = time.monotonic() - getattr(self, "_started", time.monotonic())
        test_id = test.id()
        classname, _, name = test_id.rpartition(".")
        _JUnitResult.cases.append((classname, name, elapsed, verdict, message, text))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", str(err[1]), self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", str(err[1]), self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, "passed")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, "failure", "unexpected success")


def _write_junit(path, cases):
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<testsuites><testsuite name=\"django\">"]
    for classname, name, elapsed, verdict, message, text in cases:
        head = "<testcase classname=%s name=%s time=\"%.6f\"" % (quoteattr(classname), quoteattr(name), elapsed)
        if verdict == "passed":
            lines.append(head + "/>")
        elif verdict == "skipped":
            lines.append(head + "><skipped message=%s/></testcase>" % quoteattr(message))
        else:
            lines.append(
                head + "><%s message=%s>%s</%s></testcase>" % (verdict, quoteattr(message), escape(text), verdict)
            )
    lines.append("</testsuite></testsuites>")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)


class ParacloneRunner(DiscoverRunner):
    """Runs tests on the databases paraclone made; see the module doc."""

    def get_databases(self, suite):
        # TransactionTestCase empties the tables after each test, the rows
        # of data migrations included. The next process on this clone
        # expects the template's contents: such a process puts them back.
        from django.test import TestCase, TransactionTestCase

        self._restores = any(
            isinstance(t, TransactionTestCase) and not isinstance(t, TestCase) for t in _iter_tests(suite)
        )
        return super().get_databases(suite)

    def setup_databases(self, aliases=(), serialized_aliases=(), **kwargs):
        # The databases exist already: paraclone migrated the template and
        # cloned it for this worker, and every process leaves them as the
        # template was. Their contents are read here when a test needs them
        # back (serialized_rollback) or this process will empty them.
        from django.db import connections

        self._pristine = {}
        for alias in aliases:
            if alias in serialized_aliases or getattr(self, "_restores", False):
                connection = connections[alias]
                contents = connection.creation.serialize_db_to_string()
                self._pristine[alias] = contents
                if alias in serialized_aliases:
                    connection._test_serialized_contents = contents
        return []

    def teardown_databases(self, old_config, **kwargs):
        # paraclone drops the clones when the run is over; what a
        # TransactionTestCase emptied is put back for the next process.
        if not getattr(self, "_restores", False):
            return
        from django.core.management import call_command
        from django.db import connections

        for alias, contents in self._pristine.items():
            call_command("flush", verbosity=0, interactive=False, database=alias, inhibit_post_migrate=True)
            connections[alias].creation.deserialize_db_from_string(contents)

    def get_resultclass(self):
        return _JUnitResult

    def run_tests(self, test_labels, **kwargs):
        if os.environ.get("PARACLONE_DJANGO_LIST") == "1":
            self.setup_test_environment()
            suite = self.build_suite(test_labels)
            for test in _iter_tests(suite):
                sys.stdout.write(ID_MARK + test.id() + "\n")
            self.teardown_test_environment()
            return 0
        try:
            return super().run_tests(test_labels, **kwargs)
        finally:
            path = os.environ.get("PARACLONE_JUNIT")
            if path:
                try:
                    _write_junit(path, _JUnitResult.cases)
                except OSError:
                    traceback.print_exc()
