"""Real OTPs end to end: identity-mock without a fixed OTP, authenticator-otp generating them,
notifier-smtp delivering e-mail to an SMTP listener this test runs, and notifier-log writing
SMS-channel OTPs to a development file. The OTP is read where a user would read it (the mailbox,
the file); the server's own log must never contain it."""
import email
import email.policy
import json
import os
import re
import socketserver
import threading
import unittest

from oidc_helpers import (ACR_OTP, DEMO_ID, Browser, Client, OidcServer, jwt_parts, pkce)


class SmtpListener(socketserver.ThreadingTCPServer):
    """A minimal SMTP server on 127.0.0.1 that keeps every message it accepts."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.messages = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server_address[1]

    def wait_for(self, count, timeout=30):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError("no e-mail arrived")
            return self.messages[count - 1]

    def close(self):
        self.shutdown()
        self.server_close()


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 test-smtp ESMTP")
        envelope = {"from": None, "to": []}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-test-smtp\r\n250 8BITMIME\r\n")
            elif verb == "MAIL":
                envelope["from"] = cmd[10:]
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(cmd[8:])
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                with self.server.cond:
                    self.server.messages.append((dict(envelope), data))
                    self.server.cond.notify_all()
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


def otp_config(smtp_port):
    """YAML appended to the server's configuration. The harness formats it with str.format,
    so YAML braces are doubled and {tmp} is the server's own directory."""
    return """\
authenticators:
  - name: otp
    type: otp
    options: {{length: 6, validity: 3m, max_attempts: 3, resend_after: 0s}}
otp_notifiers:
  - name: mail
    type: smtp
    options: {{host: 127.0.0.1, port: %d, from: "eSignet <no-reply@idp.example>",
              timeout: 10s}}
  - name: dev-log
    type: log
    options: {{file: "{tmp}/otp.jsonl", channels: [phone]}}
""" % smtp_port


class OtpDelivery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpListener()
        cls.srv = OidcServer(extra=otp_config(cls.smtp.port), fixed_otp=False)
        cls.otp_file = os.path.join(cls.srv.tmp, "otp.jsonl")
        cls.srv.start()
        cls.client = Client(cls.srv)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.smtp.close()

    def start_login(self):
        browser = Browser(self.srv)
        verifier, challenge = pkce()
        status, _, body = browser.authorize(self.client, code_challenge=challenge,
                                            code_challenge_method="S256", acr_values=ACR_OTP)
        self.assertEqual(status, 200)
        details, ctx = Browser.page_details(body)
        return browser, details, ctx["hash"], verifier

    def send(self, browser, details, hash_, channel):
        status, r = browser.call("/authorization/send-otp", {
            "transactionId": details["transactionId"], "individualId": DEMO_ID,
            "otpChannels": [channel]}, details, hash_)
        self.assertEqual(status, 200)
        self.assertFalse(r["errors"], r)
        return r["response"]

    def authenticate(self, browser, details, hash_, otp):
        status, r = browser.call("/authorization/v3/authenticate", {
            "transactionId": details["transactionId"], "individualId": DEMO_ID,
            "challengeList": [{"authFactorType": "OTP", "challenge": otp,
                               "format": "alpha-numeric"}]}, details, hash_)
        self.assertEqual(status, 200)
        return r

    def otp_from_file(self, count):
        with open(self.otp_file) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        self.assertGreaterEqual(len(lines), count)
        entry = lines[count - 1]
        self.assertEqual(entry["channel"], "phone")
        # The message names the service the user is signing in to.
        self.assertEqual(entry["client"], "Test client " + self.client.client_id)
        return entry["otp"]

    def otp_from_mail(self, count):
        envelope, data = self.smtp.wait_for(count)
        msg = email.message_from_bytes(data, policy=email.policy.default)
        self.assertIn("siddharth", "".join(envelope["to"]).lower())
        body = msg.get_body(preferencelist=("plain",)).get_content()
        self.assertIn("Test client " + self.client.client_id, body)
        m = re.search(r"\b(\d{6})\b", body)
        self.assertIsNotNone(m, body)
        return m.group(1)

    def assert_not_logged(self, otp):
        for line in self.srv.lines:
            self.assertNotIn(otp, line)

    def test_email_otp_signs_in_and_is_single_use(self):
        browser, details, hash_, verifier = self.start_login()
        count = len(self.smtp.messages) + 1
        sent = self.send(browser, details, hash_, "email")
        self.assertIn("*", sent["maskedEmail"])
        otp = self.otp_from_mail(count)
        r = self.authenticate(browser, details, hash_, otp)
        self.assertFalse(r["errors"], r)
        r = browser.consent(details, hash_)
        self.assertFalse(r["errors"], r)
        status, _, tokens = self.client.token(r["response"]["code"], verifier)
        self.assertEqual(status, 200, tokens)
        claims = jwt_parts(tokens["id_token"])[1]
        self.assertEqual(claims["acr"], ACR_OTP)
        self.assertEqual(claims["amr"], ["otp"])
        self.assert_not_logged(otp)
        # The same OTP does not open another transaction.
        browser2, details2, hash2, _ = self.start_login()
        self.send(browser2, details2, hash2, "phone")
        fresh = self.otp_from_file(len(open(self.otp_file).readlines()))
        if fresh != otp:
            r = self.authenticate(browser2, details2, hash2, otp)
            self.assertEqual(r["errors"][0]["errorCode"], "auth_failed")

    def test_phone_otp_goes_to_the_development_file(self):
        browser, details, hash_, verifier = self.start_login()
        before = len(open(self.otp_file).readlines()) if os.path.exists(self.otp_file) else 0
        sent = self.send(browser, details, hash_, "phone")
        self.assertIn("*", sent["maskedMobile"])
        otp = self.otp_from_file(before + 1)
        self.assertRegex(otp, r"^\d{6}$")
        self.assertEqual(os.stat(self.otp_file).st_mode & 0o777, 0o600)
        r = self.authenticate(browser, details, hash_, otp)
        self.assertFalse(r["errors"], r)
        self.assert_not_logged(otp)

    def test_wrong_otps_use_up_the_attempts(self):
        browser, details, hash_, _ = self.start_login()
        before = len(open(self.otp_file).readlines()) if os.path.exists(self.otp_file) else 0
        self.send(browser, details, hash_, "phone")
        otp = self.otp_from_file(before + 1)
        wrong = "%06d" % ((int(otp) + 1) % 1000000)
        codes = [self.authenticate(browser, details, hash_, wrong)["errors"][0]["errorCode"]
                 for _ in range(3)]
        self.assertEqual(codes[0], "auth_failed")
        # After the attempts ran out even the right OTP is refused.
        r = self.authenticate(browser, details, hash_, otp)
        self.assertTrue(r["errors"], r)
        self.assertIn(r["errors"][0]["errorCode"],
                      ("no_attempts_left", "individual_id_blocked", "auth_failed"))


if __name__ == "__main__":
    unittest.main()
