"""Starts esignetd on 127.0.0.1 with a generated configuration and talks to it.

Every server gets its own temporary directory (keys, database, logs) and a free port chosen by
the kernel (listen on port 0; the port is read from the server's "server.ready" log line), and is
stopped (SIGTERM, then SIGKILL) by the test's cleanup, so nothing outlives a test.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

ESIGNETD = os.environ.get("ESIGNETD", "esignetd")
PLUGIN_DIR = os.environ.get("ESG_PLUGIN_DIR", "")
SOURCE_DIR = os.environ.get("ESG_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

BASE_CONFIG = """\
issuer: http://127.0.0.1:{port_hint}
server:
  listen: ["127.0.0.1:0"]
  workers: 2
  limits:
    header_size: 8k
    headers: 32
    body: 16k
  timeouts:
    header: {header_timeout}
    body: 2s
    keepalive: 5s
    write: 5s
    shutdown: 10s
log:
  level: info
plugins:
  dirs: ["{plugin_dir}"]
  load: [keystore-file, storage-sqlite]
  # PBKDF2 with 600 000 rounds (the demo passwords) under sanitizers on a loaded CI machine can
  # outlast the default 5 s deadline; deadlines have their own tests (tests/abi).
  call_timeout: 30s
storage:
  inflight:
    type: memory
  persistent:
    type: sqlite
    options:
      path: {tmp}/esignet.db
key_stores:
  - name: main
    type: file
    options:
      dir: {tmp}/keys
      algorithms: [RS256, ES256]
      retain: 1h
"""


class Server:
    """One esignetd process. Use as a context manager or call stop()."""

    def __init__(self, config_text=None, header_timeout="1s", extra_env=None, extra_config=""):
        """extra_config: YAML appended verbatim (not formatted) to the configuration, for
        top-level sections the base configuration lacks (e.g. oidc)."""
        self.tmp = tempfile.mkdtemp(prefix="esignet-it-")
        os.chmod(self.tmp, 0o700)
        self.config_path = os.path.join(self.tmp, "esignet.yaml")
        text = config_text if config_text is not None else BASE_CONFIG
        with open(self.config_path, "w") as f:
            f.write(text.format(tmp=self.tmp, plugin_dir=PLUGIN_DIR, port_hint=8088,
                                header_timeout=header_timeout))
            f.write(extra_config)
        self.env = dict(os.environ)
        self.env.update(extra_env or {})
        self.proc = None
        self.port = None
        self.lines = []
        self._ready = threading.Event()
        self._reader = None

    # -- process -------------------------------------------------------------------------------

    def start(self, timeout=60):
        self.proc = subprocess.Popen([ESIGNETD, "--config", self.config_path], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise AssertionError("esignetd did not become ready:\n" + "".join(self.lines[-30:]))
        return self

    def _read_log(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "server.ready":
                self.port = ev["port"]
                self._ready.set()

    def events(self, name):
        """Parsed log lines with event == name."""
        out = []
        for line in list(self.lines):
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == name:
                out.append(ev)
        return out

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        return self.proc.wait(timeout)

    def _terminate(self):
        """Ends the process (SIGTERM, then SIGKILL) and its log reader; returns the exit status,
        None when it had already exited."""
        status = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                status = "hung after SIGTERM"
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        return status

    def restart(self, timeout=60):
        """Stops the process and starts a new one on the same directory and configuration: keys
        and the persistent database survive, in-memory state does not. A non-zero exit fails the
        test at once; sanitizer reports of either process are found by stop(), which reads every
        line logged."""
        status = self._terminate()
        if status not in (None, 0):
            raise AssertionError("esignetd exited with %s after SIGTERM:\n%s"
                                 % (status, "".join(self.lines[-20:])))
        self.port = None
        self._ready = threading.Event()
        return self.start(timeout)

    def stop(self):
        """Stops the server and fails when it did not exit cleanly: a sanitizer report (the test
        build runs under ASan/UBSan, leaks included) or a non-zero status after SIGTERM."""
        status = self._terminate()
        shutil.rmtree(self.tmp, ignore_errors=True)
        reports = [i for i, l in enumerate(self.lines)
                   if "Sanitizer" in l or "runtime error:" in l]
        if reports:
            raise AssertionError("esignetd sanitizer report:\n" +
                                 "".join(self.lines[reports[0]:reports[0] + 60]))
        if status not in (None, 0):
            raise AssertionError("esignetd exited with %s after SIGTERM:\n%s"
                                 % (status, "".join(self.lines[-20:])))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- HTTP ----------------------------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def get_json(self, path):
        status, headers, data = self.request("GET", path)
        return status, headers, json.loads(data) if data else None

    def connect(self, timeout=10):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return s


def run_cli(args, env=None, timeout=120):
    """Runs esignetd with arguments (no server); returns (exit code, stdout, stderr)."""
    p = subprocess.run([ESIGNETD] + args, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class Reader:
    """Reads HTTP/1.1 responses from a raw socket, keeping bytes that belong to the next one
    (pipelined responses often arrive in one segment)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def response(self, timeout=10):
        self.sock.settimeout(timeout)
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                return None, {}, b""
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1."):
            return None, {}, b""
        status = int(lines[0].split(" ")[1])
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        self.buf = rest
        while len(self.buf) < length:
            if not self._fill():
                break
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body


def read_response(sock, timeout=10):
    """Reads one HTTP/1.1 response from a raw socket used for a single exchange."""
    return Reader(sock).response(timeout)


def node_available():
    modules = os.path.join(SOURCE_DIR, "tests", "node_modules", "jose")
    return shutil.which("node") is not None and os.path.isdir(modules)
