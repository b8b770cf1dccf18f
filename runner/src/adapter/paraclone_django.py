"""paraclone's Django test runner.

paraclone builds the test database once (``manage.py migrate`` on the
template), clones it for every worker and starts ``manage.py test`` in each
worker with the clone's URL in ``DATABASE_URL`` (and ``DATABASE_URL_<ALIAS>``).
This runner, selected with ``--testrunner paraclone_django.ParacloneRunner``
(paraclone puts it on ``PYTHONPATH``), makes Django use those databases as
they are: it creates no test database and destroys none. Settings must read
their databases from the environment, e.g. with dj-database-url::

    DATABASES = {"default": dj_database_url.config(default="sqlite:///db.sqlite3")}

Started by paraclone as a long-lived worker (``PARACLONE_WORKER_SOCKET``
set), it sets Django up and runs the system checks once, then runs the
groups of tests paraclone sends over the ``paraclone-v1`` protocol (one
TestCase class at a time, ``setUpClass``/``tearDownClass`` in order, each
test's output captured), until paraclone says exit. What a
TransactionTestCase empties is put back after its class, sequences
included, so any order of classes works on every database.

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

import paraclone_worker

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
        if paraclone_worker.active():
            return self._serve()
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


    # The long-lived worker (see the module doc).

    def _serve(self):
        from django.db import connections

        self.setup_test_environment()
        try:
            self.run_checks(set(connections))
            self._capture = paraclone_worker.Capture()
            self._pristine = None
            self._emptied = False
            self._flushed = False
            paraclone_worker.serve(self._run_group)
            # The next worker on these databases (after a recycling) finds
            # them as the template was.
            if self._emptied:
                _restore(self._pristine, flushed=self._flushed)
        finally:
            self.teardown_test_environment()
        return 0

    def _run_group(self, tests, channel):
        from django.test import TestCase, TransactionTestCase

        suite = self.build_suite(tests)
        loaded = list(_iter_tests(suite))
        flushing = [isinstance(t, TransactionTestCase) and not isinstance(t, TestCase) for t in loaded]
        if any(flushing) and self._pristine is None:
            # No group before emptied anything, so this is the template's
            # contents.
            self._pristine = _snapshot()
        # A TransactionTestCase empties the tables after each test. Every
        # group after it on this worker starts on the template's rows
        # again, sequences included, so classes may come in any order (the
        # rows are put back when the next group comes, not when the worker
        # ends: the clone goes with the run).
        if self._emptied:
            _restore(self._pristine, flushed=self._flushed)
            self._emptied = False
        result = _WorkerResult(channel, self._capture)
        try:
            suite.run(result)
        finally:
            result.flush()
            if any(flushing):
                self._emptied = True
                # Each TransactionTestCase test ends with a flush of every
                # table, so after a group of them only the rows need
                # putting back, unless one flushed some apps only
                # (available_apps) or did not end on one.
                last = loaded[-1] if loaded else None
                self._flushed = (
                    all(flushing)
                    and last is not None
                    and getattr(type(last), "available_apps", None) is None
                    and not result.shouldStop
                    and not result.errors
                    and not result.skipped
                )
        # What the loader did not give, or a class or module set-up
        # that failed kept from running, is reported as such.
        for test_id in tests:
            if test_id in result.reported:
                continue
            if channel.stop_requested() or result.shouldStop:
                break
            if result.class_skips and not result.class_errors:
                channel.finished(test_id, "skipped", 0.0, "\n".join(result.class_skips))
            elif result.class_errors:
                channel.finished(test_id, "failed", 0.0, "\n".join(result.class_errors))
            else:
                channel.finished(test_id, "failed", 0.0, "Django's test loader found no test %s" % test_id)


def _snapshot():
    from django.db import connections

    contents = {}
    for alias in connections:
        connection = connections[alias]
        if connection.settings_dict.get("TEST", {}).get("MIRROR"):
            continue
        contents[alias] = connection.creation.serialize_db_to_string()
        # TransactionTestCase.serialized_rollback reads it from here.
        connection._test_serialized_contents = contents[alias]
    return contents


def _restore(contents, flushed=False):
    """Puts back the template's rows after a TransactionTestCase class
    emptied the tables (``flushed``: the last test's own flush emptied all
    of them already). The sequences then continue after the restored rows:
    restoring rows with their ids into tables whose sequences a flush reset
    would make the next insert collide with them."""
    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connections, router

    for alias, data in contents.items():
        connection = connections[alias]
        if not flushed:
            call_command(
                "flush",
                verbosity=0,
                interactive=False,
                database=alias,
                reset_sequences=False,
                inhibit_post_migrate=True,
            )
        connection.creation.deserialize_db_from_string(data)
        models = [m for m in apps.get_models(include_auto_created=True) if router.allow_migrate_model(alias, m)]
        statements = connection.ops.sequence_reset_sql(no_style(), models)
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


class _WorkerResult(unittest.TestResult):
    """Reports each test to paraclone as it runs. A test's end is sent
    when the next one starts (or the group is over), so that an error in
    the tearDownClass after it is still counted against it."""

    def __init__(self, channel, capture):
        super().__init__()
        self.channel = channel
        self.capture = capture
        self.reported = set()
        self.class_errors = []
        self.class_skips = []
        self._current = None
        self._held = None

    def flush(self):
        if self._held is not None:
            test_id, verdict, elapsed, output = self._held
            self._held = None
            self.channel.finished(test_id, verdict, elapsed, output)

    def startTest(self, test):
        self.flush()
        super().startTest(test)
        self.channel.started(test.id())
        self._current = {"id": test.id(), "verdict": "passed", "texts": [], "started": time.monotonic()}
        self.capture.start()

    def _set(self, verdict, text):
        current = self._current
        if current["verdict"] != "failed":
            current["verdict"] = verdict
        if text:
            current["texts"].append(text)

    def _outside(self, test, verdict, text):
        # An error of a class or module fixture (unittest's _ErrorHolder):
        # after a test, it fails that test; before any, the tests it kept
        # from running.
        if self._held is not None and verdict == "failed":
            test_id, _, elapsed, output = self._held
            self._held = (test_id, "failed", elapsed, paraclone_worker.join(output, "%s\n%s" % (test, text)))
        elif verdict == "failed":
            self.class_errors.append("%s\n%s" % (test, text))
        else:
            self.class_skips.append("%s: %s" % (test, text))

    def addError(self, test, err):
        super().addError(test, err)
        text = self._exc_info_to_string(err, test)
        if self._current is None or not isinstance(test, unittest.TestCase):
            self._outside(test, "failed", text)
        else:
            self._set("failed", text)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._set("failed", self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._set("failed", "%s\n%s" % (subtest, self._exc_info_to_string(err, test)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        if self._current is None or not isinstance(test, unittest.TestCase):
            self._outside(test, "skipped", reason)
        else:
            self._set("skipped", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._set("failed", "unexpected success")

    def stopTest(self, test):
        output = self.capture.stop()
        current = self._current
        self._current = None
        super().stopTest(test)
        if current is None:
            return
        elapsed = time.monotonic() - current["started"]
        self._held = (current["id"], current["verdict"], elapsed, paraclone_worker.join(output, *current["texts"]))
        self.reported.add(current["id"])
        failed = current["verdict"] == "failed"
        if self.channel.stop_requested() or (failed and self.channel.failfast):
            self.stop()
