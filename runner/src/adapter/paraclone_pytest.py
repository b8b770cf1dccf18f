"""paraclone's pytest plugin: pytest as a long-lived worker.

paraclone starts ``python -m pytest -p paraclone_pytest …`` once per slot,
with the slot's databases in its environment (``DATABASE_URL`` …). The
plugin is inert unless ``PARACLONE_WORKER_SOCKET`` is set. The suite is
collected once; then, instead of running every item, the worker runs the
node ids paraclone sends over the ``paraclone-v1`` protocol, group after
group, reporting each test as it starts and ends.

Fixtures are set up and torn down as pytest would: within a group each
item runs with the next one as ``nextitem``; after a group, what is not
shared by every collected item (module and class fixtures) is torn down,
while session fixtures live until the worker exits, as under
pytest-xdist.

With pytest-django, make it use paraclone's clone as it is (no test
database created) by overriding its ``django_db_setup`` fixture in
``conftest.py``::

    @pytest.fixture(scope="session")
    def django_db_setup():
        pass
"""

import os
import signal
import time

import pytest

import paraclone_worker


def pytest_configure(config):
    if paraclone_worker.active():
        config.pluginmanager.register(_Worker(), "paraclone-worker")


class _Worker:
    def __init__(self):
        self._channel = None
        self._tests = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            raise session.Interrupted(
                "%d error%s during collection" % (session.testsfailed, "" if session.testsfailed == 1 else "s")
            )
        self._session = session
        self._items = list(session.items)
        self._index = {item.nodeid: i for i, item in enumerate(self._items)}
        self._chains = [item.listchain() for item in self._items]
        self._shared = _common_prefix(self._chains)
        self._config = session.config
        self._item = None
        signal.signal(signal.SIGTERM, self._on_terminate)
        paraclone_worker.serve(self._run_group)
        return True

    def _on_terminate(self, signum, frame):
        # paraclone stops a test that ran past its time limit with SIGTERM:
        # leave what it printed where paraclone looks, then go.
        try:
            path = os.environ.get(paraclone_worker.OUTPUT_VAR)
            if path and self._item is not None:
                texts = [
                    "----- Captured %s %s -----\n%s" % (key, when, content)
                    for when, key, content in getattr(self._item, "_report_sections", [])
                    if content
                ]
                capman = self._config.pluginmanager.getplugin("capturemanager")
                if capman is not None:
                    out, err = capman.read_global_capture()
                    texts += [t for t in (out, err) if t]
                with open(path, "w", encoding="utf-8") as f:
                    f.write(paraclone_worker.join(*texts))
        finally:
            os._exit(128 + signum)

    def _after_group(self, index):
        """The item to tear down towards after the group's last item: one
        that shares only what every collected item shares with it."""
        chain = self._chains[index]
        depth = self._shared
        for j, other in enumerate(self._chains):
            if j != index and (len(other) <= depth or len(chain) <= depth or other[depth] is not chain[depth]):
                return self._items[j]
        return None

    def _run_group(self, tests, channel):
        self._channel = channel
        chosen = []
        for test in tests:
            if test in self._index:
                chosen.append(self._index[test])
            else:
                channel.finished(test, "failed", 0.0, "pytest did not collect %s" % test)
        session = self._session
        for n, index in enumerate(chosen):
            item = self._items[index]
            nextitem = self._items[chosen[n + 1]] if n + 1 < len(chosen) else self._after_group(index)
            self._failed = False
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            stop = channel.stop_requested() or (self._failed and channel.failfast)
            if session.shouldfail or session.shouldstop or stop:
                if n + 1 < len(chosen):
                    # Tear down what this item set up, as if it were last.
                    last = self._after_group(index)
                    session._setupstate.teardown_exact(last)
                break
        self._channel = None

    def pytest_runtest_logstart(self, nodeid, location):
        if self._channel is not None and nodeid in self._index:
            self._tests[nodeid] = {"started": time.monotonic(), "verdict": "passed", "texts": [], "sections": []}
            self._item = self._items[self._index[nodeid]]
            self._channel.started(nodeid)

    def pytest_runtest_logreport(self, report):
        state = self._tests.get(report.nodeid)
        if state is None:
            return
        if report.failed:
            state["verdict"] = "failed"
            state["texts"].append("%s failed:\n%s" % (report.when, report.longreprtext))
        elif report.skipped and state["verdict"] != "failed":
            state["verdict"] = "skipped"
            reason = getattr(report, "wasxfail", None)
            if reason is not None:
                state["texts"].append("xfail: %s" % reason)
            elif isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
                state["texts"].append(str(report.longrepr[2]))
        state["sections"] = [
            "----- %s -----\n%s" % (title, content) for title, content in report.sections if content
        ]

    def pytest_runtest_logfinish(self, nodeid, location):
        state = self._tests.pop(nodeid, None)
        self._item = None
        if state is None or self._channel is None:
            return
        elapsed = time.monotonic() - state["started"]
        self._failed = state["verdict"] == "failed"
        output = paraclone_worker.join(*(state["sections"] + state["texts"]))
        self._channel.finished(nodeid, state["verdict"], elapsed, output)


def _common_prefix(chains):
    if not chains:
        return 0
    depth = 0
    first = chains[0]
    while all(len(c) > depth and c[depth] is first[depth] for c in chains):
        depth += 1
    return depth
