"""The foundation end to end: discovery, JWKS (verified against a token the key store signed),
health, readiness, metrics, HTTP limits and timeouts, and graceful shutdown."""
import base64
import json
import os
import signal
import socket
import subprocess
import time
import unittest

from harness import Reader, Server, node_available, read_response, run_cli, SOURCE_DIR


class DiscoveryAndKeys(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_openid_configuration(self):
        status, headers, doc = self.srv.get_json("/.well-known/openid-configuration")
        self.assertEqual(status, 200)
        self.assertEqual(doc["issuer"], "http://127.0.0.1:8088")
        self.assertEqual(doc["jwks_uri"], "http://127.0.0.1:8088/.well-known/jwks.json")
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(headers["access-control-allow-origin"], "*")
        self.assertIn("max-age", headers["cache-control"])
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        # eSignet's own path serves the same document.
        status, _, alias = self.srv.get_json("/v1/esignet/oidc/.well-known/openid-configuration")
        self.assertEqual(status, 200)
        self.assertEqual(alias, doc)

    def test_oauth_authorization_server(self):
        status, _, doc = self.srv.get_json("/.well-known/oauth-authorization-server")
        self.assertEqual(status, 200)
        self.assertEqual(doc["issuer"], "http://127.0.0.1:8088")

    def test_jwks_has_public_keys_only(self):
        status, _, jwks = self.srv.get_json("/.well-known/jwks.json")
        self.assertEqual(status, 200)
        algs = sorted(k["alg"] for k in jwks["keys"])
        self.assertEqual(algs, ["ES256", "RS256"])
        for k in jwks["keys"]:
            self.assertEqual(k["use"], "sig")
            self.assertTrue(k["kid"])
            for private in ("d", "p", "q", "dp", "dq", "qi"):
                self.assertNotIn(private, k)
        # Private key files are readable by the owner only.
        keydir = os.path.join(self.srv.tmp, "keys")
        for name in os.listdir(keydir):
            if name.endswith(".pem"):
                self.assertEqual(os.stat(os.path.join(keydir, name)).st_mode & 0o777, 0o600)

    @unittest.skipUnless(node_available(), "node and the npm jose package are needed (tools/setup.sh --test)")
    def test_token_signed_by_key_store_verifies_with_jwks(self):
        for alg in ("RS256", "ES256"):
            code, token, err = run_cli(["--config", self.srv.config_path, "--sign-jwt",
                                        '{"sub":"alice","aud":"test"}', "--alg", alg])
            self.assertEqual(code, 0, err)
            token = token.strip()
            status, _, body = self.srv.request("GET", "/.well-known/jwks.json")
            self.assertEqual(status, 200)
            script = os.path.join(os.path.dirname(__file__), "verify_jwt.mjs")
            p = subprocess.run(["node", script, token], input=body.decode(), capture_output=True,
                               text=True, cwd=os.path.join(SOURCE_DIR, "tests"), timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            claims = json.loads(p.stdout)
            self.assertEqual(claims["sub"], "alice")
            # A tampered token must not verify.
            head, payload, sig = token.split(".")
            bad = head + "." + payload + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
            p = subprocess.run(["node", script, bad], input=body.decode(), capture_output=True,
                               text=True, cwd=os.path.join(SOURCE_DIR, "tests"), timeout=60)
            self.assertNotEqual(p.returncode, 0)

    def test_health_and_readiness(self):
        status, _, doc = self.srv.get_json("/healthz")
        self.assertEqual((status, doc["status"]), (200, "UP"))
        status, _, doc = self.srv.get_json("/readyz")
        self.assertEqual(status, 200)
        self.assertEqual(doc["checks"], {"inflight": "UP", "persistent": "UP"})

    def test_metrics(self):
        self.srv.request("GET", "/.well-known/jwks.json")
        self.srv.request("GET", "/no/such/path")
        status, headers, body = self.srv.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        text = body.decode()
        self.assertRegex(text, r'esignet_http_requests_total\{route="jwks",status="200"\} [1-9]')
        self.assertRegex(text, r'esignet_http_requests_total\{route="none",status="404"\} [1-9]')
        self.assertIn('esignet_http_request_duration_seconds_bucket{route="jwks",le="+Inf"}', text)
        self.assertRegex(text, r'esignet_plugin_calls_total\{kind="key_stores",instance="main",op="keys"\} [1-9]')
        self.assertIn('esignet_plugin_call_duration_seconds_count{kind="key_stores",instance="main",op="keys"}', text)
        self.assertRegex(text, r'esignet_store_entries\{role="persistent",instance="persistent"\} \d+')
        self.assertIn("esignet_plugin_calls_pending 0", text)

    def test_unknown_route_and_method(self):
        status, _, body = self.srv.request("GET", "/nope")
        self.assertEqual(status, 404)
        status, headers, _ = self.srv.request("POST", "/.well-known/jwks.json", body=b"x")
        self.assertEqual(status, 405)
        self.assertIn("GET", headers["allow"])

    def test_access_log_never_has_query(self):
        self.srv.request("GET", "/healthz?code=SECRET-CODE-123")
        # The access log line for that request exists and holds no query string.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any("healthz" in l for l in self.srv.lines if '"http.request"' in l):
                break
            time.sleep(0.05)
        self.assertFalse(any("SECRET-CODE-123" in l for l in self.srv.lines))


class Limits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(header_timeout="1s").start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_oversized_header_gets_431(self):
        s = self.srv.connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
        status, _, _ = read_response(s)
        s.close()
        self.assertEqual(status, 431)

    def test_too_many_headers_get_431(self):
        s = self.srv.connect()
        hdrs = b"".join(b"X-H%d: v\r\n" % i for i in range(40))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n")
        status, _, _ = read_response(s)
        s.close()
        self.assertEqual(status, 431)

    def test_oversized_body_gets_413(self):
        status, _, _ = self.srv.request("POST", "/healthz", body=b"x" * 20000)
        self.assertEqual(status, 413)

    def test_stalled_client_is_cut_off_while_others_are_served(self):
        stalled = self.srv.connect(timeout=30)
        stalled.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes the head
        started = time.monotonic()
        # Others are served meanwhile, on the same server and loops.
        for _ in range(20):
            status, _, _ = self.srv.request("GET", "/healthz")
            self.assertEqual(status, 200)
        # The stalled connection is closed by the server after the 1 s header timeout.
        data = b""
        while True:
            chunk = stalled.recv(4096)
            if not chunk:
                break
            data += chunk
        elapsed = time.monotonic() - started
        stalled.close()
        self.assertLess(elapsed, 15)
        self.assertGreaterEqual(elapsed, 0.5)
        if data:
            self.assertTrue(data.startswith(b"HTTP/1.1 408"), data[:40])

    def test_pipelined_requests_answered_in_order(self):
        s = self.srv.connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = Reader(s)
        got = [reader.response()[0] for _ in range(3)]
        s.close()
        self.assertEqual(got, [200, 404, 200])


class Shutdown(unittest.TestCase):
    def test_sigterm_finishes_in_flight_request_and_refuses_new_ones(self):
        srv = Server().start()
        try:
            # A request in flight: head sent, body still arriving.
            s = srv.connect(timeout=30)
            s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
            time.sleep(0.2)  # let the server read the head before the signal (not a sync point)
            srv.signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while not srv.events("server.stopping") and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertTrue(srv.events("server.stopping"))
            s.sendall(b"67890")
            status, _, _ = read_response(s)
            s.close()
            self.assertEqual(status, 405)  # answered (POST is not allowed there), not dropped
            self.assertEqual(srv.wait(30), 0)
            # New connections are refused once the server has stopped listening.
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
            self.assertTrue(srv.events("server.stopped"))
        finally:
            srv.stop()


class CommandLine(unittest.TestCase):
    def assert_no_sanitizer_report(self, err):
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error:", err)

    def test_failed_start_exits_cleanly(self):
        from harness import BASE_CONFIG
        # 192.0.2.1 (TEST-NET-1) is not an address of this machine: binding it fails after the
        # loops, routes and keys were set up, which must all be torn down without a crash.
        config = BASE_CONFIG.replace('listen: ["127.0.0.1:0"]', 'listen: ["192.0.2.1:0"]')
        srv = Server(config_text=config)
        try:
            code, out, err = run_cli(["--config", srv.config_path], timeout=60)
            self.assertEqual(code, 1, err)
            self.assertIn("cannot listen on 192.0.2.1:0", err)
            self.assert_no_sanitizer_report(err)
        finally:
            srv.stop()

    def test_version(self):
        code, out, _ = run_cli(["--version"])
        self.assertEqual(code, 0)
        self.assertRegex(out, r"plugin ABI 1\.\d+")

    def test_check_config_reports_file_line_column(self):
        srv = Server()
        try:
            code, out, err = run_cli(["--check-config", srv.config_path])
            self.assertEqual(code, 0, err)
            bad = os.path.join(srv.tmp, "bad.yaml")
            with open(srv.config_path) as f:
                text = f.read()
            with open(bad, "w") as f:
                f.write(text.replace("  workers: 2\n", "  workers: 2\n  listn: x\n"))
            code, out, err = run_cli(["--check-config", bad])
            self.assertNotEqual(code, 0)
            self.assertRegex(err, r'bad\.yaml:5:3: unknown key "listn" in server')
        finally:
            srv.stop()

    def test_list_plugins_without_starting(self):
        from harness import PLUGIN_DIR
        code, out, err = run_cli(["--list-plugins", os.path.join(PLUGIN_DIR, "keystore-file.so")])
        self.assertEqual(code, 0, err)
        self.assertIn("keystore-file", out)
        self.assertIn("key store", out)
        self.assertIn("rotate_after", out)

    def test_rotation_keeps_old_key_in_jwks(self):
        with Server() as srv:
            _, _, before = srv.get_json("/.well-known/jwks.json")
            old = {k["kid"] for k in before["keys"]}
            code, out, err = run_cli(["--config", srv.config_path, "--rotate-keys", "--alg", "ES256"])
            self.assertEqual(code, 0, err)
            srv.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                _, _, after = srv.get_json("/.well-known/jwks.json")
                if len(after["keys"]) == 3:
                    break
                time.sleep(0.05)
            kids = {k["kid"] for k in after["keys"]}
            self.assertEqual(len(after["keys"]), 3)
            self.assertTrue(old <= kids, "retired keys stay published")
            self.assertEqual(sorted(k["alg"] for k in after["keys"]), ["ES256", "ES256", "RS256"])

    def test_scheduled_rotation_publishes_the_next_key_before_it_signs(self):
        from harness import BASE_CONFIG
        config = BASE_CONFIG.replace(
            "      retain: 1h\n", "      retain: 1h\n      rotate_after: 2s\n      publish_ahead: 6s\n")

        def kid_of(token):
            header = token.split(".")[0]
            return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]

        def sign(srv):
            code, out, err = run_cli(["--config", srv.config_path, "--sign-jwt", '{"sub":"a"}',
                                      "--alg", "ES256"])
            self.assertEqual(code, 0, err)
            return kid_of(out.strip())

        with Server(config_text=config) as srv:
            _, _, before = srv.get_json("/.well-known/jwks.json")
            self.assertEqual(len(before["keys"]), 2)
            old = {k["kid"] for k in before["keys"]}
            # Once the keys are older than 2 s, a key listing (SIGHUP asks for one) schedules the
            # next keys; a later listing publishes them beside the current ones.
            deadline = time.monotonic() + 30
            published = before
            while time.monotonic() < deadline and len(published["keys"]) < 4:
                srv.signal(signal.SIGHUP)
                time.sleep(0.2)
                _, _, published = srv.get_json("/.well-known/jwks.json")
            self.assertEqual(len(published["keys"]), 4)
            self.assertTrue(old <= {k["kid"] for k in published["keys"]})
            # The next keys are published but do not sign yet.
            self.assertIn(sign(srv), old)
            # After publish_ahead (6 s, wide enough for slow sanitizer builds to sign in between)
            # they sign, and relying parties had them in the JWKS already.
            deadline = time.monotonic() + 30
            kid = sign(srv)
            while kid in old and time.monotonic() < deadline:
                time.sleep(0.2)
                kid = sign(srv)
            self.assertNotIn(kid, old)
            self.assertIn(kid, {k["kid"] for k in published["keys"]})

    # A key store may start work in passing when it lists its keys (keystore-file starts a due
    # key update on the worker pool). The command line tools wait for that work, within the call
    # timeout, on a loop that takes its completion. They used to free their loop first: the
    # worker then posted to freed memory, and the tool hung at exit (once beside a rotating
    # server, in test_scheduled_rotation_publishes_the_next_key_before_it_signs).
    def background_store(self, job_ms, call_timeout):
        """A server directory whose key store (an ABI test plugin) starts a blocking job of
        job_ms milliseconds whenever it lists its keys."""
        from harness import BASE_CONFIG
        build = os.environ.get("ESG_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
        plugin = os.path.join(build, "tests", "abi", "plugins", "abi_background.so")
        self.assertTrue(os.path.exists(plugin), plugin)
        config = BASE_CONFIG[:BASE_CONFIG.index("key_stores:")]
        config = config.replace("load: [keystore-file, storage-sqlite]",
                                'load: [storage-sqlite, "%s"]' % plugin)
        config = config.replace("call_timeout: 30s", "call_timeout: " + call_timeout)
        config += ('key_stores:\n  - name: main\n    type: test\n    options:\n'
                   '      label: "%d"\n' % job_ms)
        return Server(config_text=config)

    def sign_with(self, srv):
        return run_cli(["--config", srv.config_path, "--sign-jwt", '{"sub":"a"}', "--alg", "ES256"],
                       timeout=60)

    def test_sign_jwt_waits_for_work_its_key_listing_started(self):
        srv = self.background_store(1500, "30s")
        try:
            code, out, err = self.sign_with(srv)
            self.assertEqual(code, 0, err)
            self.assertEqual(len(out.strip().split(".")), 3, out)
            self.assertIn("background job done", err)
            self.assert_no_sanitizer_report(err)
        finally:
            srv.stop()

    def test_sign_jwt_gives_up_on_work_that_outlives_the_call_timeout(self):
        srv = self.background_store(600000, "2s")
        try:
            started = time.monotonic()
            code, out, err = self.sign_with(srv)
            self.assertLess(time.monotonic() - started, 30)
            self.assertEqual(code, 1, err)
            self.assertEqual(out, "")
            self.assertIn("1 blocking jobs still running after 2000 ms (plugins.call_timeout); "
                          "exiting without them", err)
            self.assert_no_sanitizer_report(err)
        finally:
            srv.stop()

    def test_key_update_gives_up_on_a_directory_lock_held_too_long(self):
        import fcntl
        srv = Server()
        try:
            keys = os.path.join(srv.tmp, "keys")
            os.mkdir(keys, 0o700)
            with open(os.path.join(keys, ".lock"), "w") as lock:
                # Another process holding the lock and never letting go.
                fcntl.flock(lock, fcntl.LOCK_EX)
                started = time.monotonic()
                code, out, err = run_cli(["--config", srv.config_path, "--sign-jwt", '{"sub":"a"}'],
                                         timeout=90)
                self.assertLess(time.monotonic() - started, 60)
            self.assertEqual(code, 1, err)
            self.assertIn("another process has held the key directory lock for 30 s", err)
            self.assertIn("operation timed out", err)
            self.assert_no_sanitizer_report(err)
        finally:
            srv.stop()

if __name__ == "__main__":
    unittest.main()
