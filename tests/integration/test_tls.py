"""TLS from the configuration: a self-signed certificate made by the test, HTTPS on the same
routes, TLS 1.3 as the configured minimum, and HSTS on every response."""
import os
import shutil
import tempfile
import ssl
import subprocess
import http.client
import unittest

from harness import BASE_CONFIG, Server


def make_certificate(directory):
    key = os.path.join(directory, "tls.key")
    crt = os.path.join(directory, "tls.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return crt, key


class Tls(unittest.TestCase):
    def test_https_with_minimum_version(self):
        certs = tempfile.mkdtemp(prefix="esignet-tls-")
        self.addCleanup(shutil.rmtree, certs, True)
        crt, key = make_certificate(certs)
        config = BASE_CONFIG.replace(
            "  workers: 2\n",
            "  workers: 2\n  tls:\n    certificate: %s\n    private_key: %s\n    min_version: \"1.3\"\n"
            % (crt, key))
        with Server(config_text=config) as srv:
            ctx = ssl.create_default_context(cafile=crt)
            conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=10)
            conn.request("GET", "/.well-known/openid-configuration")
            resp = conn.getresponse()
            body = resp.read()
            self.assertEqual(resp.status, 200)
            self.assertIn(b'"issuer"', body)
            self.assertIn("max-age=", resp.getheader("Strict-Transport-Security"))
            self.assertEqual(conn.sock.version(), "TLSv1.3")
            conn.close()
            # A client limited to TLS 1.2 is refused by the configured minimum.
            old = ssl.create_default_context(cafile=crt)
            old.maximum_version = ssl.TLSVersion.TLSv1_2
            conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=old, timeout=10)
            with self.assertRaises(ssl.SSLError):
                conn.request("GET", "/healthz")
            conn.close()
            # Plain HTTP to the TLS port gets no HTTP answer.
            with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
                plain = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
                plain.request("GET", "/healthz")
                r = plain.getresponse()
                if r.status:
                    raise AssertionError("plain HTTP answered with %d" % r.status)


if __name__ == "__main__":
    unittest.main()
