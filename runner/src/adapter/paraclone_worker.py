"""paraclone's worker protocol (``paraclone-v1``) for Python workers.

paraclone starts one long-lived worker per slot, with the slot's databases
in its environment, and feeds it groups of tests. The worker connects to
the Unix socket named by ``PARACLONE_WORKER_SOCKET``, says ``hello`` once it
is set up, then answers each ``run`` request with ``started``/``finished``
events and a ``done``; one JSON object a line (see paraclone's README for
the protocol). Test output never touches the socket: each test's output is
captured at the file-descriptor level (what C code and child processes
print too) into the file named by ``PARACLONE_WORKER_OUTPUT``, so paraclone
can still show it if the test takes the worker down.

``serve(run_group)`` is the loop; ``run_group(tests, channel)`` runs the
ids it is given and reports each through ``channel``.
"""

import json
import os
import select
import socket
import sys
import tempfile

PROTOCOL = "paraclone-v1"
SOCKET_VAR = "PARACLONE_WORKER_SOCKET"
OUTPUT_VAR = "PARACLONE_WORKER_OUTPUT"


def active():
    """Whether this process was started as a paraclone worker."""
    return bool(os.environ.get(SOCKET_VAR))


class Channel:
    """The worker's end of the protocol."""

    def __init__(self, path):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(path)
        self._buffer = b""
        self._eof = False
        self._queued = []
        self._stop = False
        # Whether the current request asks to start no test after one
        # fails (--failfast).
        self.failfast = False

    def send(self, **message):
        self._sock.sendall((json.dumps(message) + "\n").encode("utf-8"))

    def started(self, test):
        self.send(event="started", test=test)

    def finished(self, test, outcome, duration, output):
        self.send(event="finished", test=test, outcome=outcome, duration=duration, output=output)

    def _line(self, block):
        while b"\n" not in self._buffer:
            if self._eof:
                return None
            if not block and not select.select([self._sock], [], [], 0)[0]:
                return None
            data = self._sock.recv(65536)
            if not data:
                self._eof = True
                return None
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def receive(self):
        """The next request, or None when paraclone is gone."""
        if self._queued:
            return self._queued.pop(0)
        return self._line(block=True)

    def stop_requested(self):
        """Whether paraclone asked to run no further test of this request
        (fail-fast) or went away; never blocks."""
        while True:
            message = self._line(block=False)
            if message is None:
                break
            if message.get("request") == "stop":
                self._stop = True
            else:
                self._queued.append(message)
        return self._stop or self._eof

    def serve(self, run_group):
        self.send(event="hello", protocol=PROTOCOL, pid=os.getpid())
        while True:
            request = self.receive()
            if request is None or request.get("request") == "exit":
                return
            if request.get("request") != "run":
                continue
            self._stop = False
            self.failfast = bool(request.get("failfast"))
            run_group(list(request["tests"]), self)
            self.send(event="done", id=request["id"])


def serve(run_group):
    """Connects to paraclone and serves its requests until it says exit."""
    Channel(os.environ[SOCKET_VAR]).serve(run_group)


class Capture:
    """Per-test output capture at the file-descriptor level (stdout and
    stderr into one file, in the order they were written)."""

    def __init__(self):
        path = os.environ.get(OUTPUT_VAR)
        if path:
            self._file = open(path, "w+b")
        else:
            self._file = tempfile.TemporaryFile()
        self._saved = None

    def start(self):
        _flush()
        self._file.seek(0)
        self._file.truncate()
        self._saved = (os.dup(1), os.dup(2))
        os.dup2(self._file.fileno(), 1)
        os.dup2(self._file.fileno(), 2)

    def stop(self):
        if self._saved is None:
            return ""
        _flush()
        out, err = self._saved
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        self._saved = None
        self._file.seek(0)
        return self._file.read().decode("utf-8", "replace")


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a test may have closed or replaced it
            pass


def join(*texts):
    """Non-empty texts, one after another, each ending its line."""
    parts = [t if t.endswith("\n") else t + "\n" for t in texts if t]
    return "".join(parts)
