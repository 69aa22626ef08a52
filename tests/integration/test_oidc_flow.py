"""The authorization code flow through the real server: the happy path, and a negative test for
every rule of the token endpoint, /authorize and the browser APIs (issue 3)."""
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import unittest
import urllib.parse

from oidc_helpers import (ACR_OTP, DEMO_ID, DEMO_PASSWORD, Browser, Client, OidcServer, b64url,
                          full_login, jwt_parts, pkce)


def location_params(h):
    loc = h["location"]
    return loc, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))


class Flow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = OidcServer().start()
        cls.client = Client(cls.srv)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    # -- happy path -------------------------------------------------------------------------

    def test_code_flow_tokens_and_userinfo(self):
        code, verifier, details, state, browser = full_login(self.srv, self.client)
        self.assertEqual(details["authFactors"], [[{"type": "OTP", "count": 1, "subTypes": []}]])
        status, h, body = self.client.token(code, verifier)
        self.assertEqual(status, 200, body)
        self.assertEqual(h["cache-control"], "no-store")
        self.assertEqual(body["token_type"], "Bearer")
        self.assertGreater(body["expires_in"], 0)
        header, claims = jwt_parts(body["id_token"])
        self.assertIn(header["alg"], ("RS256", "PS256", "ES256"))
        self.assertTrue(header["kid"])
        self.assertEqual(claims["iss"], self.srv.issuer)
        self.assertEqual(claims["aud"], self.client.client_id)
        self.assertEqual(claims["azp"], self.client.client_id)
        self.assertEqual(claims["acr"], ACR_OTP)
        self.assertEqual(claims["amr"], ["otp"])
        for c in ("sub", "exp", "iat", "auth_time", "nonce", "at_hash"):
            self.assertIn(c, claims)
        digest = hashlib.sha256(body["access_token"].encode()).digest()
        self.assertEqual(claims["at_hash"], b64url(digest[:16]))
        at_header, at_claims = jwt_parts(body["access_token"])
        self.assertEqual(at_header["typ"], "at+jwt")
        for c in ("iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"):
            self.assertIn(c, at_claims)
        status, h, ui = self.srv.request(
            "GET", "/v1/esignet/oidc/userinfo",
            headers={"Authorization": "Bearer " + body["access_token"]})
        self.assertEqual(status, 200, ui)
        self.assertEqual(h["content-type"], "application/jwt")
        _, info = jwt_parts(ui.decode())
        self.assertEqual(info["sub"], claims["sub"])
        self.assertEqual(info["aud"], self.client.client_id)
        self.assertEqual(info["iss"], self.srv.issuer)
        self.assertIn("email", info)
        self.assertIn("name", info)
        # The same token from a form body works too (RFC 6750 §2.2).
        status, _, _ = self.srv.request(
            "POST", "/v1/esignet/oidc/userinfo",
            body=urllib.parse.urlencode({"access_token": body["access_token"]}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200)

    def test_consent_is_remembered_and_prompt_consent_asks_again(self):
        full_login(self.srv, self.client)
        browser = Browser(self.srv)
        verifier, challenge = pkce()
        status, _, body = browser.authorize(self.client, code_challenge=challenge,
                                            code_challenge_method="S256")
        details, ctx = Browser.page_details(body)
        r = browser.login_otp(details, ctx["hash"])
        self.assertEqual(r["response"]["consentAction"], "NOCAPTURE")
        status, _, body = browser.authorize(self.client, code_challenge=challenge,
                                            code_challenge_method="S256", prompt="consent")
        self.assertEqual(status, 200)

    def test_sub_is_pairwise_and_stable(self):
        other = Client(self.srv)
        subs = []
        for c in (self.client, self.client, other):
            code, verifier, *_ = full_login(self.srv, c)
            status, _, body = c.token(code, verifier)
            subs.append(jwt_parts(body["id_token"])[1]["sub"])
        self.assertEqual(subs[0], subs[1])
        self.assertNotEqual(subs[0], subs[2])

    # -- token endpoint ----------------------------------------------------------------------

    def fresh(self):
        code, verifier, *_ = full_login(self.srv, self.client)
        return code, verifier

    def assertTokenError(self, result, error, status=400):
        code, h, body = result
        self.assertEqual((code, body.get("error")), (status, error), body)
        self.assertEqual(h["cache-control"], "no-store")

    def test_replayed_assertion(self):
        code, verifier = self.fresh()
        a = self.client.assertion()
        self.assertEqual(self.client.token(code, verifier, assertion=a)[0], 200)
        code, verifier = self.fresh()
        self.assertTokenError(self.client.token(code, verifier, assertion=a), "invalid_client")

    def test_assertion_signed_by_another_key(self):
        code, verifier = self.fresh()
        other = Client(self.srv)
        forged = other.sign({"iss": self.client.client_id, "sub": self.client.client_id,
                             "aud": self.srv.issuer + "/v1/esignet/oauth/v2/token",
                             "iat": int(time.time()), "exp": int(time.time()) + 60,
                             "jti": secrets.token_hex(8)})
        self.assertTokenError(self.client.token(code, verifier, assertion=forged),
                              "invalid_client")

    def test_alg_none_assertion(self):
        code, verifier = self.fresh()
        claims = {"iss": self.client.client_id, "sub": self.client.client_id,
                  "aud": self.srv.issuer + "/v1/esignet/oauth/v2/token",
                  "exp": int(time.time()) + 60, "jti": secrets.token_hex(8)}
        token = b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(claims).encode()) + "."
        self.assertTokenError(self.client.token(code, verifier, assertion=token),
                              "invalid_client")

    def test_hs256_signed_with_the_public_key(self):
        code, verifier = self.fresh()
        claims = {"iss": self.client.client_id, "sub": self.client.client_id,
                  "aud": self.srv.issuer + "/v1/esignet/oauth/v2/token",
                  "exp": int(time.time()) + 60, "jti": secrets.token_hex(8)}
        signing_input = (b64url(b'{"alg":"HS256","typ":"JWT"}') + "." +
                         b64url(json.dumps(claims).encode()))
        for secret in (json.dumps(self.client.public).encode(),
                       self.client.public.get("n", "").encode()):
            mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
            self.assertTokenError(
                self.client.token(code, verifier, assertion=signing_input + "." + b64url(mac)),
                "invalid_client")

    def test_wrong_audience(self):
        code, verifier = self.fresh()
        self.assertTokenError(self.client.token(
            code, verifier, assertion=self.client.assertion(aud="https://elsewhere.example")),
            "invalid_client")

    def test_expired_and_overlong_assertions(self):
        code, verifier = self.fresh()
        now = int(time.time())
        self.assertTokenError(self.client.token(
            code, verifier, assertion=self.client.assertion(iat=now - 600, exp=now - 300)),
            "invalid_client")
        self.assertTokenError(self.client.token(
            code, verifier, assertion=self.client.assertion(iat=now, exp=now + 86400)),
            "invalid_client")
        self.assertTokenError(self.client.token(
            code, verifier, assertion=self.client.assertion(iat=now + 3600, exp=now + 3700)),
            "invalid_client")
        self.assertTokenError(self.client.token(
            code, verifier, assertion=self.client.assertion(jti=None)), "invalid_client")
        self.assertTokenError(self.client.token(
            code, verifier, assertion=self.client.assertion(sub="someone-else")),
            "invalid_client")
        # The code survived the failed client authentications.
        self.assertEqual(self.client.token(code, verifier)[0], 200)

    def test_reused_code_revokes_its_tokens(self):
        code, verifier = self.fresh()
        status, _, first = self.client.token(code, verifier)
        self.assertEqual(status, 200)
        auth = {"Authorization": "Bearer " + first["access_token"]}
        self.assertEqual(self.srv.request("GET", "/v1/esignet/oidc/userinfo", headers=auth)[0],
                         200)
        self.assertTokenError(self.client.token(code, verifier), "invalid_grant")
        status, h, _ = self.srv.request("GET", "/v1/esignet/oidc/userinfo", headers=auth)
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', h["www-authenticate"])

    def test_concurrent_redemptions_leave_no_live_token(self):
        # Two redemptions of one code racing each other: at most one gets tokens, and its access
        # token is revoked by the other, whichever order the server's steps interleave in.
        for _ in range(12):
            code, verifier = self.fresh()
            assertions = [self.client.assertion(), self.client.assertion()]
            start = threading.Barrier(2)
            results = [None, None]

            def redeem(i):
                start.wait()
                results[i] = self.client.token(code, verifier, assertion=assertions[i])

            threads = [threading.Thread(target=redeem, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            ok = [body for status, _, body in results if status == 200]
            self.assertLessEqual(len(ok), 1, results)
            for status, _, body in results:
                if status != 200:
                    self.assertEqual((status, body["error"]), (400, "invalid_grant"))
            for body in ok:
                status, _, _ = self.srv.request(
                    "GET", "/v1/esignet/oidc/userinfo",
                    headers={"Authorization": "Bearer " + body["access_token"]})
                self.assertEqual(status, 401, results)

    def test_wrong_or_missing_pkce_verifier(self):
        code, verifier = self.fresh()
        self.assertTokenError(self.client.token(code, secrets.token_urlsafe(48)), "invalid_grant")
        code, verifier = self.fresh()
        self.assertTokenError(self.client.token(code, None), "invalid_grant")
        code, verifier = self.fresh()
        self.assertTokenError(self.client.token(code, "short"), "invalid_grant")

    def test_mismatched_redirect_uri_at_token(self):
        code, verifier = self.fresh()
        self.assertTokenError(self.client.token(code, verifier,
                                                redirect_uri="https://rp.example/other"),
                              "invalid_grant")

    def test_code_of_another_client(self):
        code, verifier = self.fresh()
        other = Client(self.srv)
        self.assertTokenError(other.token(code, verifier), "invalid_grant")

    def test_grant_type_and_form_errors(self):
        self.assertTokenError(self.client.token("x", "y", extra={"grant_type": "password"}),
                              "unsupported_grant_type")
        status, _, body = self.srv.request(
            "POST", "/v1/esignet/oauth/v2/token", body=b"grant_type=authorization_code&code=a&code=b",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((status, json.loads(body)["error"]), (400, "invalid_request"))
        self.assertTokenError(self.client.token("not-a-code", "v" * 43), "invalid_grant")

    # -- /authorize --------------------------------------------------------------------------

    def test_unknown_client_gets_an_error_page(self):
        browser = Browser(self.srv)
        status, h, body = browser.request(
            "GET", "/authorize?" + urllib.parse.urlencode({
                "client_id": "nobody", "redirect_uri": "https://evil.example/cb",
                "response_type": "code", "scope": "openid"}))
        self.assertEqual(status, 400)
        self.assertNotIn("location", h)
        self.assertIn(b"This application is not known", body)
        self.assertIn(b"invalid_client_id", body)

    def test_unregistered_redirect_uri_is_never_redirected_to(self):
        browser = Browser(self.srv)
        for uri in ("https://evil.example/cb", self.client.redirect_uri + "/x",
                    self.client.redirect_uri + "?a=b", "https://rp.example/CB"):
            status, h, _ = browser.authorize(self.client, redirect_uri=uri)
            self.assertEqual(status, 400, uri)
            self.assertNotIn("location", h)

    def test_errors_go_back_with_state_and_iss(self):
        browser = Browser(self.srv)
        status, h, _ = browser.authorize(self.client, scope="profile email", state="s1")
        self.assertEqual(status, 303)
        loc, q = location_params(h)
        self.assertTrue(loc.startswith(self.client.redirect_uri))
        self.assertEqual((q["error"], q["state"], q["iss"]), ("invalid_scope", "s1",
                                                              self.srv.issuer))
        status, h, _ = browser.authorize(self.client, response_type="token")
        self.assertEqual(location_params(h)[1]["error"], "unsupported_response_type")
        verifier, challenge = pkce()
        status, h, _ = browser.authorize(self.client, code_challenge=challenge,
                                         code_challenge_method="plain")
        self.assertEqual(location_params(h)[1]["error"], "invalid_request")
        status, h, _ = browser.authorize(self.client)  # no PKCE: required by default
        self.assertEqual(location_params(h)[1]["error"], "invalid_request")
        status, h, _ = browser.authorize(self.client, code_challenge=challenge,
                                         code_challenge_method="S256", prompt="none login")
        self.assertEqual(location_params(h)[1]["error"], "invalid_request")
        status, h, _ = browser.authorize(self.client, code_challenge=challenge,
                                         code_challenge_method="S256", request="eyJ.x.y")
        self.assertEqual(location_params(h)[1]["error"], "request_not_supported")

    def test_replayed_nonce(self):
        browser = Browser(self.srv)
        verifier, challenge = pkce()
        nonce = secrets.token_urlsafe(12)
        status, _, _ = browser.authorize(self.client, nonce=nonce, code_challenge=challenge,
                                         code_challenge_method="S256")
        self.assertEqual(status, 200)
        status, h, _ = browser.authorize(self.client, nonce=nonce, code_challenge=challenge,
                                         code_challenge_method="S256")
        self.assertEqual(status, 303)
        self.assertEqual(location_params(h)[1]["error"], "invalid_request")

    def test_oversized_and_repeated_parameters(self):
        browser = Browser(self.srv)
        verifier, challenge = pkce()
        status, h, _ = browser.authorize(self.client, state="s" * 3000, code_challenge=challenge,
                                         code_challenge_method="S256")
        self.assertEqual(status, 303)
        self.assertEqual(location_params(h)[1]["error"], "invalid_request")
        status, _, _ = browser.request("GET", "/authorize?client_id=a&client_id=b")
        self.assertEqual(status, 400)
        status, _, _ = browser.request("GET", "/authorize?" + "x=" + "y" * 20000)
        self.assertIn(status, (400, 414))

    def test_prompt_none_and_sessions(self):
        browser = Browser(self.srv)
        verifier, challenge = pkce()
        # Without a session, prompt=none answers login_required.
        status, h, _ = browser.authorize(self.client, prompt="none", code_challenge=challenge,
                                         code_challenge_method="S256")
        self.assertEqual(location_params(h)[1]["error"], "login_required")
        # After a login (the session cookie is HttpOnly and SameSite), prompt=none gives a code.
        code, v, details, state, browser = full_login(self.srv, self.client, browser)
        self.assertIn("esg_session", browser.cookies)
        # Secure even on http://127.0.0.1: browsers keep Secure cookies for loopback origins.
        session = [l for l in browser.set_cookie_lines if l.startswith("esg_session=")][0]
        attrs = {a.strip().split("=")[0].lower() for a in session.split(";")[1:]}
        self.assertTrue({"httponly", "secure", "samesite", "path", "max-age"} <= attrs, session)
        self.assertIn("SameSite=Lax", session)
        csrf = [l for l in browser.set_cookie_lines if l.startswith("XSRF-TOKEN=")][0]
        self.assertIn("Secure", csrf)
        self.assertIn("SameSite=Strict", csrf)
        self.assertNotIn("HttpOnly", csrf)  # the page's script echoes it in a header
        status, h, _ = browser.authorize(self.client, prompt="none", code_challenge=challenge,
                                         code_challenge_method="S256", state="silent")
        self.assertEqual(status, 303)
        loc, q = location_params(h)
        self.assertEqual(q["state"], "silent")
        self.assertIn("code", q)
        status, _, tokens = self.client.token(q["code"], verifier)
        self.assertEqual(status, 200, tokens)
        claims = jwt_parts(tokens["id_token"])[1]
        # auth_time is the time of the interactive login, not of the silent one.
        first = jwt_parts(self.client.token(code, v)[2]["id_token"])[1]
        self.assertEqual(claims["auth_time"], first["auth_time"])
        # max_age=0 and prompt=login force a new login.
        for extra in ({"max_age": "0"}, {"prompt": "login"}):
            status, _, body = browser.authorize(self.client, code_challenge=challenge,
                                                code_challenge_method="S256", **extra)
            self.assertEqual(status, 200, extra)
            self.assertEqual(Browser.page_details(body)[1]["step"], "login")

    def test_a_blocked_individual_does_not_sign_in_silently(self):
        other_id = "5860356276"  # another demo identity: blocking it leaves DEMO_ID usable
        browser = Browser(self.srv)
        verifier, challenge = pkce()
        status, _, body = browser.authorize(self.client, code_challenge=challenge,
                                            code_challenge_method="S256")
        details, ctx = Browser.page_details(body)
        self.assertFalse(browser.login_otp(details, ctx["hash"], individual_id=other_id)["errors"])
        self.assertFalse(browser.consent(details, ctx["hash"])["errors"])
        # In another browser, wrong OTPs until the ID is blocked.
        attacker, details, hash_ = self.start()
        for _ in range(4):
            status, r = attacker.call("/authorization/v3/authenticate", {
                "transactionId": details["transactionId"], "individualId": other_id,
                "challengeList": [{"authFactorType": "OTP", "challenge": "000000",
                                   "format": "alpha-numeric"}]}, details, hash_)
        self.assertEqual(r["errors"][0]["errorCode"], "no_attempts_left")
        # The first browser's session no longer signs the user in without a login.
        status, h, _ = browser.authorize(self.client, prompt="none", code_challenge=challenge,
                                         code_challenge_method="S256")
        self.assertEqual(status, 303)
        self.assertEqual(location_params(h)[1]["error"], "login_required")
        status, _, body = browser.authorize(self.client, code_challenge=challenge,
                                            code_challenge_method="S256")
        self.assertEqual((status, Browser.page_details(body)[1]["step"]), (200, "login"))

    # -- browser APIs ------------------------------------------------------------------------

    def start(self):
        browser = Browser(self.srv)
        verifier, challenge = pkce()
        status, _, body = browser.authorize(self.client, code_challenge=challenge,
                                            code_challenge_method="S256")
        details, ctx = Browser.page_details(body)
        return browser, details, ctx["hash"]

    def test_csrf_and_hash_are_required(self):
        browser, details, hash_ = self.start()
        status, _, body = browser.request(
            "POST", "/v1/esignet/authorization/send-otp",
            body=json.dumps({"requestTime": "x", "request": {}}).encode(),
            headers={"Content-Type": "application/json"})
        self.assertEqual(status, 403)
        status, r = browser.call("/authorization/send-otp", {
            "transactionId": details["transactionId"], "individualId": DEMO_ID,
            "otpChannels": ["email"]}, details, "wrong-hash")
        self.assertEqual(r["errors"][0]["errorCode"], "invalid_request")

    def test_wrong_otp_then_success_and_attempt_limit(self):
        browser, details, hash_ = self.start()
        r = browser.login_otp(details, hash_, otp="000000")
        self.assertEqual(r["errors"][0]["errorCode"], "auth_failed")
        r = browser.login_otp(details, hash_)
        self.assertFalse(r["errors"], r)
        # A fresh transaction: three wrong attempts, then no attempts are left and the ID is
        # blocked for the next transaction too.
        browser, details, hash_ = self.start()
        for _ in range(3):
            status, r = browser.call("/authorization/v3/authenticate", {
                "transactionId": details["transactionId"], "individualId": "blocked-1",
                "challengeList": [{"authFactorType": "OTP", "challenge": "000000",
                                   "format": "alpha-numeric"}]}, details, hash_)
        status, r = browser.call("/authorization/v3/authenticate", {
            "transactionId": details["transactionId"], "individualId": "blocked-1",
            "challengeList": [{"authFactorType": "OTP", "challenge": "000000",
                               "format": "alpha-numeric"}]}, details, hash_)
        self.assertEqual(r["errors"][0]["errorCode"], "no_attempts_left")
        browser, details, hash_ = self.start()
        status, r = browser.call("/authorization/v3/authenticate", {
            "transactionId": details["transactionId"], "individualId": "blocked-1",
            "challengeList": [{"authFactorType": "OTP", "challenge": "000000",
                               "format": "alpha-numeric"}]}, details, hash_)
        self.assertEqual(r["errors"][0]["errorCode"], "individual_id_blocked")

    def test_authenticate_cannot_revive_a_completed_transaction(self):
        # Two logins race an auth-code that polls until the transaction is authenticated. The
        # login that finishes after auth-code took the transaction must not put it back, or a
        # second auth-code would turn one login into two codes.
        for _ in range(3):
            browser = Browser(self.srv)
            verifier, challenge = pkce()
            status, _, body = browser.authorize(
                self.client, code_challenge=challenge, code_challenge_method="S256",
                acr_values=ACR_OTP + " mosip:idp:acr:password")
            details, ctx = Browser.page_details(body)
            hash_ = ctx["hash"]
            tid = details["transactionId"]
            status, r = browser.call("/authorization/send-otp", {
                "transactionId": tid, "individualId": DEMO_ID, "otpChannels": ["email"]},
                details, hash_)
            self.assertFalse(r["errors"], r)
            # The OTP login is quick; the password login is slow (PBKDF2), so it finishes after
            # auth-code has taken the transaction.
            logins = [{"transactionId": tid, "individualId": DEMO_ID,
                       "challengeList": [{"authFactorType": factor, "challenge": secret,
                                          "format": "alpha-numeric"}]}
                      for factor, secret in (("OTP", "111111"), ("PWD", DEMO_PASSWORD))]
            codes = []
            start = threading.Barrier(3)

            def authenticate(login):
                start.wait()
                browser.call("/authorization/v3/authenticate", login, details, hash_)

            def take_code():
                start.wait()
                deadline = time.monotonic() + 10
                while not codes and time.monotonic() < deadline:
                    r = browser.consent(details, hash_)
                    if not r["errors"]:
                        codes.append(r["response"]["code"])

            threads = [threading.Thread(target=authenticate, args=(login,)) for login in logins]
            threads.append(threading.Thread(target=take_code))
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(len(codes), 1)
            r = browser.consent(details, hash_)
            self.assertEqual([e["errorCode"] for e in r["errors"]], ["invalid_transaction"], r)

    def test_challenge_validation(self):
        browser, details, hash_ = self.start()
        tid = details["transactionId"]
        cases = [
            ([{"authFactorType": "XYZ", "challenge": "1", "format": "x"}],
             "invalid_auth_factor_type"),
            ([{"authFactorType": "OTP", "challenge": "111111", "format": "number"}],
             "invalid_challenge_format"),
            ([{"authFactorType": "OTP", "challenge": "1111111", "format": "alpha-numeric"}],
             "invalid_challenge"),
            ([], "invalid_no_of_challenges"),
            ([{"authFactorType": "PWD", "challenge": "secret-password",
               "format": "alpha-numeric"}], "auth_factor_mismatch"),
        ]
        for challenges, code in cases:
            status, r = browser.call("/authorization/v3/authenticate", {
                "transactionId": tid, "individualId": DEMO_ID, "challengeList": challenges},
                details, hash_)
            self.assertEqual(r["errors"][0]["errorCode"], code, challenges)

    def test_unknown_individual_answers_like_a_wrong_secret(self):
        browser, details, hash_ = self.start()
        tid = details["transactionId"]
        codes = []
        for individual in ("0000000000", DEMO_ID):
            status, r = browser.call("/authorization/v3/authenticate", {
                "transactionId": tid, "individualId": individual,
                "challengeList": [{"authFactorType": "OTP", "challenge": "999999",
                                   "format": "alpha-numeric"}]}, details, hash_)
            codes.append(r["errors"][0]["errorCode"])
        self.assertEqual(codes, ["auth_failed", "auth_failed"])

    def test_auth_code_rules(self):
        browser, details, hash_ = self.start()
        r = browser.login_otp(details, hash_)
        self.assertFalse(r["errors"], r)
        r = browser.consent(details, hash_, accepted=["not_requested"])
        self.assertEqual(r["errors"][0]["errorCode"], "invalid_accepted_claim")
        r = browser.consent(details, hash_, accepted=[])
        self.assertFalse(r["errors"], r)
        # Single use.
        r = browser.consent(details, hash_, accepted=[])
        self.assertEqual(r["errors"][0]["errorCode"], "invalid_transaction")

    def test_oauth_details_api(self):
        browser = Browser(self.srv)
        verifier, challenge = pkce()
        status, r = browser.call("/authorization/v3/oauth-details", {
            "clientId": self.client.client_id, "redirectUri": self.client.redirect_uri,
            "responseType": "code", "scope": "openid profile", "acrValues": ACR_OTP,
            "codeChallenge": challenge, "codeChallengeMethod": "S256", "nonce": "n-api-1",
            "state": "st"}, {"transactionId": ""}, "")
        self.assertEqual(status, 200)
        self.assertFalse(r["errors"], r)
        resp = r["response"]
        # The hash the UI computes is over JSON.stringify of the response it parsed.
        text = json.dumps(resp, separators=(",", ":"), ensure_ascii=False)
        hash_ = b64url(hashlib.sha256(text.encode()).digest())
        r = browser.login_otp(resp, hash_)
        self.assertFalse(r["errors"], r)
        status, r = browser.call("/authorization/v3/oauth-details", {
            "clientId": "nobody", "redirectUri": "https://x.example", "responseType": "code",
            "scope": "openid"}, {"transactionId": ""}, "")
        self.assertEqual(r["errors"][0]["errorCode"], "invalid_client_id")

    # -- userinfo ----------------------------------------------------------------------------

    def test_userinfo_errors(self):
        status, h, _ = self.srv.request("GET", "/v1/esignet/oidc/userinfo")
        self.assertEqual(status, 401)
        # Both schemes are on offer (RFC 6750 §3, RFC 9449 §7.1).
        self.assertEqual(h["www-authenticate"], 'Bearer, DPoP algs="RS256 PS256 ES256"')
        status, h, _ = self.srv.request("GET", "/v1/esignet/oidc/userinfo",
                                        headers={"Authorization": "Bearer abc.def.ghi"})
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', h["www-authenticate"])
        code, verifier = self.fresh()
        tokens = self.client.token(code, verifier)[2]
        # An ID token is not an access token.
        status, h, _ = self.srv.request("GET", "/v1/esignet/oidc/userinfo",
                                        headers={"Authorization": "Bearer " + tokens["id_token"]})
        self.assertEqual(status, 401)
        # Header and body together are refused.
        status, h, _ = self.srv.request(
            "POST", "/v1/esignet/oidc/userinfo",
            body=urllib.parse.urlencode({"access_token": tokens["access_token"]}).encode(),
            headers={"Authorization": "Bearer " + tokens["access_token"],
                     "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 400)


class Discovery(unittest.TestCase):
    def test_discovery_advertises_the_flow(self):
        with OidcServer() as srv:
            status, _, doc = srv.get_json("/.well-known/openid-configuration")
            self.assertEqual(status, 200)
            base = srv.issuer + "/v1/esignet"
            self.assertEqual(doc["authorization_endpoint"], srv.issuer + "/authorize")
            self.assertEqual(doc["token_endpoint"], base + "/oauth/v2/token")
            self.assertEqual(doc["userinfo_endpoint"], base + "/oidc/userinfo")
            self.assertEqual(doc["token_endpoint_auth_methods_supported"], ["private_key_jwt"])
            self.assertEqual(doc["code_challenge_methods_supported"], ["S256"])
            self.assertIn(ACR_OTP, doc["acr_values_supported"])
            self.assertTrue(doc["authorization_response_iss_parameter_supported"])
            self.assertEqual(doc["subject_types_supported"], ["pairwise"])
            self.assertIn("RS256", doc["id_token_signing_alg_values_supported"])


if __name__ == "__main__":
    unittest.main()
