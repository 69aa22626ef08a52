"""The rules of the authorization code flow that test_oidc_flow.py leaves out (issue 3): every
/authorize parameter, the password, knowledge and OTP authenticators with the ID token's acr and
amr, consent (essential and voluntary claims, reuse, expiry, persistence across a restart),
encrypted and localised userinfo, the token endpoint's other algorithms and assertion rules, and
attempt limits."""
import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from harness import node_available, SOURCE_DIR
from oidc_helpers import (ACR_OTP, DEMO_ID, DEMO_PASSWORD, Browser, Client, OidcServer, b64url, b64url_decode,
                          jose, jwt_parts, pkce)

ACR_PWD = "mosip:idp:acr:password"
ACR_KBI = "mosip:idp:acr:knowledge"
DEMO_KNOWLEDGE = {"full_name": "Siddharth K Mansour", "date_of_birth": "1987-11-25"}
AISHA = "5860356276"
TOKEN_PATH = "/v1/esignet/oauth/v2/token"
USERINFO_PATH = "/v1/esignet/oidc/userinfo"


def location_params(h):
    loc = h["location"]
    return loc, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))


def otp_challenge(otp="111111"):
    return [{"authFactorType": "OTP", "challenge": otp, "format": "alpha-numeric"}]


def pwd_challenge(password=DEMO_PASSWORD):
    return [{"authFactorType": "PWD", "challenge": password, "format": "alpha-numeric"}]


def kbi_challenge(answers):
    return [{"authFactorType": "KBI", "challenge": b64url(json.dumps(answers).encode()),
             "format": "base64url-encoded-json"}]


def error_codes(r):
    return [e["errorCode"] for e in r["errors"]]


def begin(browser, client, **params):
    """/authorize with PKCE; returns (verifier, oauth-details, login context)."""
    verifier, challenge = pkce()
    status, h, body = browser.authorize(client, code_challenge=challenge,
                                        code_challenge_method="S256", **params)
    assert status == 200, (status, h.get("location"), body[:300])
    details, ctx = Browser.page_details(body)
    return verifier, details, ctx


def authenticate(browser, details, hash_, challenges, individual_id=DEMO_ID):
    if challenges[0]["authFactorType"] == "OTP":
        status, r = browser.call("/authorization/send-otp", {
            "transactionId": details["transactionId"], "individualId": individual_id,
            "otpChannels": ["email"]}, details, hash_)
        assert not r["errors"], r
    status, r = browser.call("/authorization/v3/authenticate", {
        "transactionId": details["transactionId"], "individualId": individual_id,
        "challengeList": challenges}, details, hash_)
    assert status == 200, status
    return r


def login(srv, client, challenges=None, accepted=None, individual_id=DEMO_ID, browser=None,
          **params):
    """A whole interactive login; returns (code, verifier, details, consentAction, browser)."""
    browser = browser or Browser(srv)
    verifier, details, ctx = begin(browser, client, **params)
    r = authenticate(browser, details, ctx["hash"], challenges or otp_challenge(), individual_id)
    assert not r["errors"], r
    action = r["response"]["consentAction"]
    if accepted is None:
        accepted = details["essentialClaims"] + details["voluntaryClaims"]
    r = browser.consent(details, ctx["hash"], accepted if action == "CAPTURE" else [])
    assert not r["errors"], r
    return r["response"]["code"], verifier, details, action, browser


def tokens(client, code, verifier):
    status, h, body = client.token(code, verifier)
    assert status == 200, body
    return body


def userinfo(srv, access_token):
    return srv.request("GET", USERINFO_PATH, headers={"Authorization": "Bearer " + access_token})


def jwks_key(srv, kid):
    status, _, doc = srv.get_json("/.well-known/jwks.json")
    assert status == 200
    for k in doc["keys"]:
        if k.get("kid") == kid:
            return k
    raise AssertionError("kid %s is not in the JWKS" % kid)


def verify_with_jwks(srv, token):
    """Verifies a JWS with the server's published key (esg-jose, and npm jose when installed);
    returns the claims."""
    header, _ = jwt_parts(token)
    key = jwks_key(srv, header["kid"])
    with tempfile.NamedTemporaryFile("w", suffix=".jwk", delete=False) as f:
        json.dump(key, f)
    try:
        payload = jose(["verify", "-k", f.name, "-a", header["alg"]], token.encode())
    finally:
        os.unlink(f.name)
    if node_available():
        status, _, doc = srv.get_json("/.well-known/jwks.json")
        p = subprocess.run(["node", os.path.join(os.path.dirname(__file__), "verify_jwt.mjs"),
                            token], input=json.dumps(doc).encode(), capture_output=True,
                           timeout=60, cwd=os.path.join(SOURCE_DIR, "tests"))
        assert p.returncode == 0, p.stderr.decode()
    return json.loads(payload)


def sign_as_server(srv, claims, typ="JWT"):
    """A JWT signed with the server's active RS256 key, read from the key store's directory: the
    way to make tokens the server would not issue (expired ones) without waiting."""
    with open(os.path.join(srv.tmp, "keys", "keys.json")) as f:
        listing = json.load(f)
    keys = listing["keys"] if isinstance(listing, dict) else listing
    kid = next(k["kid"] for k in keys if k["alg"] == "RS256" and not k.get("retired_at"))
    signing_input = (b64url(json.dumps({"alg": "RS256", "typ": typ, "kid": kid}).encode()) + "." +
                     b64url(json.dumps(claims).encode()))
    pem = os.path.join(srv.tmp, "keys", kid + ".pem")
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", pem],
                         input=signing_input.encode(), capture_output=True, check=True).stdout
    return signing_input + "." + b64url(sig)


class ServerTest(unittest.TestCase):
    """One server and one client for all tests of a class; CLIENT_REQUEST adds to the client's
    registration, CLIENT_KEY is its key type and algorithm, and make_server() may configure the
    server differently."""
    CLIENT_REQUEST = None
    CLIENT_KEY = ("RSA-2048", "RS256")

    @classmethod
    def make_server(cls):
        return OidcServer()

    @classmethod
    def setUpClass(cls):
        cls.srv = cls.make_server().start()
        try:
            cls.client = Client(cls.srv, kty=cls.CLIENT_KEY[0], alg=cls.CLIENT_KEY[1],
                                extra_request=cls.CLIENT_REQUEST)
        except Exception:
            cls.srv.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()


class Authorize(ServerTest):
    """/authorize and oauth-details parameters (OpenID Connect Core §3.1.2.1, esignet.md §4.1)."""

    def redirect_error(self, **params):
        verifier, challenge = pkce()
        status, h, body = Browser(self.srv).authorize(self.client, code_challenge=challenge,
                                                      code_challenge_method="S256", **params)
        self.assertEqual(status, 303, (params, body[:300]))
        loc, q = location_params(h)
        self.assertTrue(loc.startswith(self.client.redirect_uri + "?"), loc)
        self.assertEqual(q.get("iss"), self.srv.issuer)
        return q

    def api_details(self, **request):
        verifier, challenge = pkce()
        req = {"clientId": self.client.client_id, "redirectUri": self.client.redirect_uri,
               "responseType": "code", "scope": "openid profile", "acrValues": ACR_OTP,
               "codeChallenge": challenge, "codeChallengeMethod": "S256",
               "nonce": secrets.token_urlsafe(12)}
        req.update(request)
        req = {k: v for k, v in req.items() if v is not None}
        status, r = Browser(self.srv).call("/authorization/v3/oauth-details", req,
                                           {"transactionId": ""}, "")
        self.assertEqual(status, 200)
        return r

    def test_openid_scope_is_required(self):
        for scope in ("profile email", "email", "unknown-scope", ""):
            q = self.redirect_error(scope=scope, state="st")
            self.assertEqual((q["error"], q["state"]), ("invalid_scope", "st"), scope)
        # A claims request for userinfo without openid is refused the same way (esignet.md §6.1).
        q = self.redirect_error(scope="email", claims=json.dumps({"userinfo": {"email": None}}))
        self.assertEqual(q["error"], "invalid_scope")
        r = self.api_details(scope="profile")
        self.assertEqual(error_codes(r), ["invalid_scope"])
        # Unknown scope values next to openid are ignored (RFC 6749 §3.3).
        verifier, details, ctx = begin(Browser(self.srv), self.client,
                                       scope="openid email no-such-scope")
        self.assertEqual(set(details["voluntaryClaims"]), {"email"})

    def test_post_works_like_get(self):
        browser = Browser(self.srv)
        verifier, challenge = pkce()
        form = {"client_id": self.client.client_id, "redirect_uri": self.client.redirect_uri,
                "response_type": "code", "scope": "openid email", "state": "posted",
                "nonce": secrets.token_urlsafe(12), "acr_values": ACR_OTP,
                "code_challenge": challenge, "code_challenge_method": "S256"}
        status, h, body = browser.request(
            "POST", "/authorize", body=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, body[:300])
        details, ctx = Browser.page_details(body)
        self.assertEqual(details["voluntaryClaims"], ["email"])
        self.assertEqual(details["redirectUri"], self.client.redirect_uri)
        # The transaction it started is a real one: the login completes and the state comes back.
        r = browser.login_otp(details, ctx["hash"])
        self.assertFalse(r["errors"], r)
        r = browser.consent(details, ctx["hash"])
        self.assertEqual(r["response"]["state"], "posted")
        status, _, tok = self.client.token(r["response"]["code"], verifier)
        self.assertEqual(status, 200, tok)
        # A POST is a form: another body type, or a repeated parameter, is refused with a page.
        for body, ctype in ((json.dumps(form).encode(), "application/json"),
                            (urllib.parse.urlencode(form).encode() + b"&scope=openid",
                             "application/x-www-form-urlencoded")):
            status, h, page = browser.request("POST", "/authorize", body=body,
                                              headers={"Content-Type": ctype})
            self.assertEqual(status, 400, ctype)
            self.assertNotIn("location", h)

    def test_unknown_parameters_are_ignored(self):
        verifier, details, ctx = begin(Browser(self.srv), self.client, foo="bar",
                                       x_vendor_extension="1", resource="https://api.example")
        self.assertTrue(details["transactionId"])
        r = self.api_details(somethingElse="x")
        self.assertFalse(r["errors"], r)

    def test_prompt_values(self):
        for prompt in ("none login", "none consent", "none select_account", "login none",
                       "bogus", "login bogus"):
            q = self.redirect_error(prompt=prompt)
            self.assertEqual(q["error"], "invalid_request", prompt)
        r = self.api_details(prompt="none consent")
        self.assertEqual(error_codes(r), ["invalid_prompt"])
        # Several values without none are fine (OpenID Connect Core §3.1.2.1).
        begin(Browser(self.srv), self.client, prompt="login consent")

    def test_select_account_lets_the_user_choose_another_account(self):
        browser = Browser(self.srv)
        code, verifier, *_ = login(self.srv, self.client, browser=browser)
        first = jwt_parts(tokens(self.client, code, verifier)["id_token"])[1]
        # With a session, select_account still shows the login page (one session per browser:
        # choosing an account means signing in with it).
        verifier, details, ctx = begin(browser, self.client, prompt="select_account")
        self.assertEqual(ctx["step"], "login")
        r = authenticate(browser, details, ctx["hash"], otp_challenge(), AISHA)
        self.assertFalse(r["errors"], r)
        r = browser.consent(details, ctx["hash"])
        second = jwt_parts(tokens(self.client, r["response"]["code"], verifier)["id_token"])[1]
        self.assertNotEqual(first["sub"], second["sub"])
        # The browser's session is now the chosen account's.
        verifier, challenge = pkce()
        status, h, _ = browser.authorize(self.client, prompt="none", code_challenge=challenge,
                                         code_challenge_method="S256")
        silent = jwt_parts(tokens(self.client, location_params(h)[1]["code"],
                                  verifier)["id_token"])[1]
        self.assertEqual(silent["sub"], second["sub"])

    def test_id_token_hint(self):
        browser = Browser(self.srv)
        code, verifier, *_ = login(self.srv, self.client, browser=browser)
        hint = tokens(self.client, code, verifier)["id_token"]
        # A valid hint for the session's user: prompt=none goes on silently.
        verifier, challenge = pkce()
        status, h, _ = browser.authorize(self.client, prompt="none", id_token_hint=hint,
                                         code_challenge=challenge, code_challenge_method="S256")
        self.assertEqual(status, 303)
        q = location_params(h)[1]
        self.assertIn("code", q, q)
        silent = jwt_parts(tokens(self.client, q["code"], verifier)["id_token"])[1]
        self.assertEqual(silent["sub"], jwt_parts(hint)[1]["sub"])
        # An expired ID token is still a hint (OpenID Connect Core §3.1.2.1).
        now = int(time.time())
        expired = sign_as_server(self.srv, dict(jwt_parts(hint)[1], iat=now - 7200,
                                                exp=now - 3600))
        q = self.redirect_error_with(browser, prompt="none", id_token_hint=expired)
        self.assertIn("code", q, q)
        # Without a session the hint alone signs nobody in.
        q = self.redirect_error_with(Browser(self.srv), prompt="none", id_token_hint=hint)
        self.assertEqual(q["error"], "login_required")
        # A hint for another user of this client: login_required, and without prompt=none the
        # login page.
        code, verifier, *_ = login(self.srv, self.client, individual_id=AISHA)
        other = tokens(self.client, code, verifier)["id_token"]
        q = self.redirect_error_with(browser, prompt="none", id_token_hint=other)
        self.assertEqual(q["error"], "login_required")
        verifier, details, ctx = begin(browser, self.client, id_token_hint=other)
        self.assertEqual(ctx["step"], "login")
        # Forged and foreign hints are refused, with or without a session.
        head, payload, sig = hint.split(".")
        claims = jwt_parts(hint)[1]
        claims["sub"] = "someone-else"
        tampered = head + "." + b64url(json.dumps(claims).encode()) + "." + sig
        foreign = self.client.sign(claims, {"kid": jwt_parts(hint)[0]["kid"]})
        unsigned = b64url(b'{"alg":"none"}') + "." + payload + "."
        other_issuer = sign_as_server(self.srv, dict(jwt_parts(hint)[1],
                                                     iss="https://other.example"))
        for bad in (tampered, foreign, unsigned, "not-a-jwt", hint[:-4] + "AAAA", other_issuer):
            for browser_ in (browser, Browser(self.srv)):
                q = self.redirect_error_with(browser_, prompt="none", id_token_hint=bad)
                self.assertEqual(q["error"], "invalid_request", bad[:40])
        # An ID token of ours for another client is not a hint for this one.
        other_client = Client(self.srv)
        code, verifier, *_ = login(self.srv, other_client)
        theirs = tokens(other_client, code, verifier)["id_token"]
        q = self.redirect_error_with(browser, prompt="none", id_token_hint=theirs)
        self.assertEqual(q["error"], "invalid_request")
        r = self.api_details(idTokenHint=tampered)
        self.assertEqual(error_codes(r), ["invalid_id_token_hint"])

    def redirect_error_with(self, browser, **params):
        verifier, challenge = pkce()
        status, h, body = browser.authorize(self.client, code_challenge=challenge,
                                            code_challenge_method="S256", **params)
        self.assertEqual(status, 303, body[:300])
        return location_params(h)[1]

    def test_login_hint_prefills_the_login_page(self):
        verifier, details, ctx = begin(Browser(self.srv), self.client, login_hint=DEMO_ID)
        self.assertEqual(ctx["loginHint"], DEMO_ID)
        # The hint cannot break out of the page's JSON.
        evil = '</script><script>alert(1)</script>'
        verifier, challenge = pkce()
        status, h, body = Browser(self.srv).authorize(
            self.client, login_hint=evil, code_challenge=challenge, code_challenge_method="S256")
        self.assertEqual(status, 200)
        self.assertNotIn(b"<script>alert", body)
        self.assertEqual(Browser.page_details(body)[1]["loginHint"], evil)
        # No hint, no member.
        verifier, details, ctx = begin(Browser(self.srv), self.client)
        self.assertNotIn("loginHint", ctx)
        status, _, script = self.srv.request("GET", "/static/login.js")
        self.assertRegex(script, rb"idInput\.value = ctx\.loginHint;")

    def test_claims_parameter_userinfo_members(self):
        claims = {"userinfo": {"email": {"essential": True},
                               "name": {"essential": False, "purpose": "To greet you"},
                               "birthdate": None,
                               "nickname": {"essential": True},  # not registered: ignored
                               "no_such_claim": None},
                  "id_token": {"email": {"essential": True}, "auth_time": {"essential": True}}}
        verifier, details, ctx = begin(Browser(self.srv), self.client, scope="openid",
                                       claims=json.dumps(claims))
        self.assertEqual(details["essentialClaims"], ["email"])
        self.assertEqual(set(details["voluntaryClaims"]), {"name", "birthdate"})
        # Scope claims and the claims parameter merge; the parameter's detail decides.
        verifier, details, ctx = begin(Browser(self.srv), self.client, scope="openid profile",
                                       claims=json.dumps(claims))
        self.assertEqual(details["essentialClaims"], ["email"])
        self.assertIn("gender", details["voluntaryClaims"])
        self.assertNotIn("email", details["voluntaryClaims"])

    def test_claims_parameter_for_the_id_token(self):
        # User claims never go into the ID token (esignet.md §6.1); asking for them there
        # neither adds them to userinfo nor fails.
        claims = {"id_token": {"email": {"essential": True}, "name": None}}
        code, verifier, details, action, _ = login(self.srv, self.client, scope="openid",
                                                   claims=json.dumps(claims))
        self.assertEqual(details["essentialClaims"] + details["voluntaryClaims"], [])
        tok = tokens(self.client, code, verifier)
        id_claims = jwt_parts(tok["id_token"])[1]
        self.assertNotIn("email", id_claims)
        self.assertNotIn("name", id_claims)
        info = jwt_parts(userinfo(self.srv, tok["access_token"])[2].decode())[1]
        self.assertNotIn("email", info)

    def test_claims_parameter_acr(self):
        pwd_only = [[{"type": "PWD", "count": 1, "subTypes": []}]]
        otp_only = [[{"type": "OTP", "count": 1, "subTypes": []}]]
        both = otp_only + pwd_only
        acr = lambda **d: json.dumps({"id_token": {"acr": d}})  # noqa: E731
        cases = [
            ({"claims": acr(essential=True, values=[ACR_PWD])}, pwd_only),
            ({"claims": acr(value=ACR_PWD)}, pwd_only),
            # The claims parameter wins over acr_values (esignet.md §6.2).
            ({"claims": acr(values=[ACR_PWD]), "acr_values": ACR_OTP}, pwd_only),
            ({"claims": acr(values=[ACR_PWD, ACR_OTP])}, pwd_only + otp_only),
            # Voluntary and not available to this client: every registered ACR.
            ({"claims": acr(values=[ACR_KBI]), "acr_values": None}, both),
            ({"acr_values": ACR_PWD}, pwd_only),
        ]
        for params, factors in cases:
            verifier, details, ctx = begin(Browser(self.srv), self.client, **params)
            self.assertEqual(details["authFactors"], factors, params)
        # Essential and not available: the request fails (OpenID Connect Core §5.5.1.1).
        q = self.redirect_error(claims=acr(essential=True, values=[ACR_KBI]))
        self.assertEqual(q["error"], "unmet_authentication_requirements")

    def test_invalid_claims_parameter(self):
        for bad in ("{bad json", "[]", '"text"', '{"userinfo": []}', '{"id_token": "x"}',
                    '{"userinfo": {"email": {"essential": "yes"}}}',
                    '{"userinfo": {"email": {"purpose": "x"}}}',
                    '{"userinfo": {"email": {"values": []}}}',
                    '{"userinfo": {"email": null, "email": null}}',
                    '{"id_token": {"acr": {"essential": "yes"}}}',
                    '{"id_token": {"acr": {"values": "mosip:idp:acr:password"}}}'):
            q = self.redirect_error(claims=bad)
            self.assertEqual(q["error"], "invalid_request", bad)
        r = self.api_details(claims={"userinfo": {"email": {"essential": 1}}})
        self.assertEqual(error_codes(r), ["invalid_claim"])

    def test_acr_values_not_registered_for_the_client(self):
        for acr_values in (ACR_KBI, "urn:example:unknown", ACR_KBI + " " + ACR_PWD):
            verifier, details, ctx = begin(Browser(self.srv), self.client, acr_values=acr_values)
            types = [[f["type"] for f in alt] for alt in details["authFactors"]]
            if ACR_PWD in acr_values:
                self.assertEqual(types, [["PWD"]], acr_values)
            else:
                # Nothing usable asked for: every ACR registered for the client is offered.
                self.assertEqual(types, [["OTP"], ["PWD"]], acr_values)

    def test_display_and_locales_are_accepted(self):
        for display in ("page", "popup", "touch", "wap"):
            begin(Browser(self.srv), self.client, display=display)
        begin(Browser(self.srv), self.client, ui_locales="ar en-IN", claims_locales="ar en")
        q = self.redirect_error(display="tv")
        self.assertEqual(q["error"], "invalid_request")
        r = self.api_details(display="tv")
        self.assertEqual(error_codes(r), ["invalid_display"])

    def test_request_objects_are_refused(self):
        q = self.redirect_error(request="eyJhbGciOiJub25lIn0.e30.", state="r1")
        self.assertEqual((q["error"], q["state"]), ("request_not_supported", "r1"))
        q = self.redirect_error(request_uri="https://rp.example/request.jwt")
        self.assertEqual(q["error"], "request_uri_not_supported")
        # A PAR request_uri this server did not issue: no redirect URI can be trusted for it
        # (tests/integration/test_par.py has the rest).
        verifier, challenge = pkce()
        status, h, _ = Browser(self.srv).authorize(
            self.client, request_uri="urn:ietf:params:oauth:request_uri:abc",
            code_challenge=challenge, code_challenge_method="S256")
        self.assertEqual(status, 400)
        self.assertNotIn("location", h)
        r = self.api_details(requestUri="https://rp.example/request.jwt")
        self.assertEqual(error_codes(r), ["invalid_request"])

    def test_response_mode_other_than_query_is_refused(self):
        for mode in ("fragment", "form_post", "jwt", "query.jwt"):
            q = self.redirect_error(response_mode=mode)
            self.assertEqual(q["error"], "invalid_request", mode)
        begin(Browser(self.srv), self.client, response_mode="query")

    def test_duplicated_parameters_are_refused(self):
        browser = Browser(self.srv)
        verifier, challenge = pkce()
        base = {"client_id": self.client.client_id, "redirect_uri": self.client.redirect_uri,
                "response_type": "code", "scope": "openid", "nonce": secrets.token_urlsafe(8),
                "code_challenge": challenge, "code_challenge_method": "S256"}
        for dup in ("state=a&state=b", "scope=openid&scope=openid", "nonce=x",
                    "redirect_uri=" + urllib.parse.quote(self.client.redirect_uri, safe=""),
                    "prompt=none&prompt=login"):
            status, h, body = browser.request(
                "GET", "/authorize?" + urllib.parse.urlencode(base) + "&" + dup)
            self.assertEqual(status, 400, dup)
            self.assertNotIn("location", h)
            self.assertIn(b"cannot be processed", body)

    def test_pages_carry_security_headers(self):
        verifier, challenge = pkce()
        status, h, body = Browser(self.srv).authorize(self.client, code_challenge=challenge,
                                                      code_challenge_method="S256")
        self.assertEqual(status, 200)
        error = Browser(self.srv).request("GET", "/authorize?client_id=nobody")
        for status, headers in ((status, h), error[:2]):
            self.assertTrue(headers["content-type"].startswith("text/html"))
            csp = [d.strip() for d in headers["content-security-policy"].split(";")]
            self.assertIn("frame-ancestors 'none'", csp)
            self.assertIn("default-src 'none'", csp)
            self.assertIn("script-src 'self'", csp)
            self.assertFalse(any("unsafe-inline" in d for d in csp), csp)
            self.assertEqual(headers["cache-control"], "no-store")
            self.assertEqual(headers["x-frame-options"], "DENY")
            self.assertEqual(headers["x-content-type-options"], "nosniff")
            self.assertEqual(headers["referrer-policy"], "no-referrer")


class Authenticators(ServerTest):
    """Password, knowledge and OTP logins; the ID token says which was used."""
    CLIENT_REQUEST = {"authContextRefs": [ACR_OTP, ACR_PWD, ACR_KBI]}

    def test_each_factor_gives_its_acr_and_amr(self):
        cases = [(ACR_OTP, otp_challenge(), "otp"),
                 (ACR_PWD, pwd_challenge(), "pwd"),
                 # Answers are compared trimmed and case-insensitively.
                 (ACR_KBI, kbi_challenge({"full_name": " siddharth k MANSOUR ",
                                          "date_of_birth": "1987-11-25"}), "kba")]
        for acr, challenges, amr in cases:
            code, verifier, details, *_ = login(self.srv, self.client, challenges,
                                                acr_values=acr)
            self.assertEqual(len(details["authFactors"]), 1)
            self.assertEqual(details["authFactors"][0][0]["type"],
                             challenges[0]["authFactorType"])
            claims = verify_with_jwks(self.srv, tokens(self.client, code, verifier)["id_token"])
            self.assertEqual((claims["acr"], claims["amr"]), (acr, [amr]), acr)

    def test_the_factor_used_decides_when_several_are_allowed(self):
        code, verifier, details, *_ = login(self.srv, self.client, pwd_challenge(),
                                            acr_values=ACR_OTP + " " + ACR_PWD)
        claims = jwt_parts(tokens(self.client, code, verifier)["id_token"])[1]
        self.assertEqual((claims["acr"], claims["amr"]), (ACR_PWD, ["pwd"]))

    def test_wrong_secrets_fail(self):
        cases = [(ACR_PWD, pwd_challenge("Wrong@Pass1"), DEMO_ID),
                 (ACR_KBI, kbi_challenge(dict(DEMO_KNOWLEDGE, date_of_birth="1987-11-26")),
                  DEMO_ID),
                 (ACR_KBI, kbi_challenge({"full_name": DEMO_KNOWLEDGE["full_name"]}), DEMO_ID),
                 (ACR_OTP, otp_challenge("123456"), DEMO_ID)]
        for acr, challenges, individual in cases:
            browser = Browser(self.srv)
            verifier, details, ctx = begin(browser, self.client, acr_values=acr)
            r = authenticate(browser, details, ctx["hash"], challenges, individual)
            self.assertEqual(error_codes(r), ["auth_failed"], challenges)
            # The transaction is still usable with the right secret.
        browser = Browser(self.srv)
        verifier, details, ctx = begin(browser, self.client, acr_values=ACR_PWD)
        r = authenticate(browser, details, ctx["hash"], pwd_challenge("Wrong@Pass1"))
        self.assertEqual(error_codes(r), ["auth_failed"])
        r = authenticate(browser, details, ctx["hash"], pwd_challenge())
        self.assertFalse(r["errors"], r)
        # A KBI challenge that is not base64url JSON is a format error.
        browser = Browser(self.srv)
        verifier, details, ctx = begin(browser, self.client, acr_values=ACR_KBI)
        r = authenticate(browser, details, ctx["hash"], [{
            "authFactorType": "KBI", "challenge": "not-json-at-all", "format":
            "base64url-encoded-json"}])
        self.assertEqual(error_codes(r), ["invalid_challenge_format"])

    def test_a_factor_that_does_not_meet_the_requested_acr_is_refused(self):
        for params in ({"acr_values": ACR_PWD},
                       {"claims": json.dumps({"id_token": {"acr": {
                           "essential": True, "values": [ACR_KBI]}}})}):
            browser = Browser(self.srv)
            verifier, details, ctx = begin(browser, self.client, **params)
            r = authenticate(browser, details, ctx["hash"], otp_challenge())
            self.assertEqual(error_codes(r), ["auth_factor_mismatch"], params)

    def test_a_session_from_a_weaker_method_does_not_satisfy_a_stronger_request(self):
        browser = Browser(self.srv)
        login(self.srv, self.client, browser=browser, acr_values=ACR_OTP)
        verifier, challenge = pkce()
        status, h, _ = browser.authorize(self.client, prompt="none", acr_values=ACR_PWD,
                                         code_challenge=challenge, code_challenge_method="S256")
        self.assertEqual(location_params(h)[1]["error"], "login_required")
        verifier, details, ctx = begin(browser, self.client, acr_values=ACR_PWD)
        self.assertEqual(ctx["step"], "login")
        # The same method again is satisfied silently.
        status, h, _ = browser.authorize(self.client, prompt="none", acr_values=ACR_OTP,
                                         code_challenge=challenge, code_challenge_method="S256")
        self.assertIn("code", location_params(h)[1])


    def test_the_id_token_names_a_requested_acr_after_single_sign_on(self):
        # Two ACRs satisfied by the same OTP login: a later silent login for one of them says
        # that one, not whichever the session happened to list first.
        other_acr = "urn:example:acr:otp"
        extra = "  acr:\n" + "".join("    - acr: '%s'\n      amr: [otp]\n" % a
                                     for a in (ACR_OTP, other_acr))
        srv = OidcServer(extra=extra).start()
        self.addCleanup(srv.stop)
        client = Client(srv, extra_request={"authContextRefs": [ACR_OTP, other_acr]})
        browser = Browser(srv)
        code, verifier, *_ = login(srv, client, browser=browser,
                                   acr_values=ACR_OTP + " " + other_acr)
        self.assertEqual(jwt_parts(tokens(client, code, verifier)["id_token"])[1]["acr"],
                         ACR_OTP)
        for acr in (other_acr, ACR_OTP):
            verifier, challenge = pkce()
            status, h, _ = browser.authorize(client, prompt="none", acr_values=acr,
                                             code_challenge=challenge,
                                             code_challenge_method="S256")
            claims = jwt_parts(tokens(client, location_params(h)[1]["code"],
                                      verifier)["id_token"])[1]
            self.assertEqual((claims["acr"], claims["amr"]), (acr, ["otp"]))


class Consent(ServerTest):
    """Consent capture, reuse, re-asking, forcing and expiry (esignet.md §6.4). Each test
    registers its own clients: consents are per client and user."""

    CLAIMS = json.dumps({"userinfo": {"email": {"essential": True}, "name": None,
                                      "birthdate": {"essential": False}}})

    def claims_of(self, client, code, verifier):
        tok = tokens(client, code, verifier)
        status, _, body = userinfo(self.srv, tok["access_token"])
        self.assertEqual(status, 200)
        return jwt_parts(body.decode())[1]

    def consent_record(self, client, subject):
        db = sqlite3.connect(os.path.join(self.srv.tmp, "esignet.db"))
        try:
            row = db.execute("SELECT doc, expires_at FROM records WHERE collection = 'consents' "
                             "AND key = ?", (client.client_id + "|" + subject,)).fetchone()
        finally:
            db.close()
        return (json.loads(row[0]), row[1]) if row else (None, None)

    def test_essential_claims_must_be_accepted_voluntary_ones_may_be_declined(self):
        client = Client(self.srv)
        browser = Browser(self.srv)
        verifier, details, ctx = begin(browser, client, scope="openid", claims=self.CLAIMS)
        self.assertEqual(details["essentialClaims"], ["email"])
        self.assertEqual(set(details["voluntaryClaims"]), {"name", "birthdate"})
        r = authenticate(browser, details, ctx["hash"], otp_challenge())
        self.assertEqual(r["response"]["consentAction"], "CAPTURE")
        r = browser.consent(details, ctx["hash"], ["name"])
        self.assertEqual(error_codes(r), ["invalid_accepted_claim"])
        r = browser.consent(details, ctx["hash"], ["email"])
        self.assertFalse(r["errors"], r)
        info = self.claims_of(client, r["response"]["code"], verifier)
        self.assertEqual(info["email"], "siddharth.mansour@example.com")
        self.assertNotIn("name", info)
        self.assertNotIn("birthdate", info)
        # The stored consent is reused: no consent step, the same claims, and the declined one
        # stays out even if the UI sends it.
        code, verifier, details, action, _ = login(self.srv, client, scope="openid",
                                                   claims=self.CLAIMS)
        self.assertEqual(action, "NOCAPTURE")
        info = self.claims_of(client, code, verifier)
        self.assertIn("email", info)
        self.assertNotIn("name", info)
        browser = Browser(self.srv)
        verifier, details, ctx = begin(browser, client, scope="openid", claims=self.CLAIMS)
        authenticate(browser, details, ctx["hash"], otp_challenge())
        r = browser.consent(details, ctx["hash"], ["email", "name"])
        self.assertFalse(r["errors"], r)
        self.assertNotIn("name", self.claims_of(client, r["response"]["code"], verifier))

    def test_more_claims_than_consented_asks_again(self):
        client = Client(self.srv)
        code, verifier, details, action, _ = login(self.srv, client, scope="openid email")
        self.assertEqual(action, "CAPTURE")
        code, verifier, details, action, _ = login(self.srv, client, scope="openid email")
        self.assertEqual(action, "NOCAPTURE")
        code, verifier, details, action, _ = login(self.srv, client, scope="openid email phone")
        self.assertEqual(action, "CAPTURE")
        self.assertIn("phone_number", self.claims_of(client, code, verifier))
        # A claim turned essential is a different request too.
        code, verifier, details, action, _ = login(
            self.srv, client, scope="openid email phone",
            claims=json.dumps({"userinfo": {"email": {"essential": True}}}))
        self.assertEqual(action, "CAPTURE")

    def test_prompt_consent_forces_the_consent_step(self):
        client = Client(self.srv)
        browser = Browser(self.srv)
        login(self.srv, client, browser=browser)
        code, verifier, details, action, _ = login(self.srv, client, prompt="consent")
        self.assertEqual(action, "CAPTURE")
        # With a session: the page opens at the consent step, and prompt=none cannot ask.
        verifier, details, ctx = begin(browser, client, prompt="consent")
        self.assertEqual(ctx["step"], "consent")
        r = browser.consent(details, ctx["hash"])
        self.assertFalse(r["errors"], r)
        verifier, challenge = pkce()
        status, h, _ = browser.authorize(
            client, prompt="none", code_challenge=challenge, code_challenge_method="S256",
            claims=json.dumps({"userinfo": {"email": {"essential": True}}}))
        self.assertEqual(location_params(h)[1]["error"], "consent_required")
        # What was just consented to is given silently.
        status, h, _ = browser.authorize(client, prompt="none", code_challenge=challenge,
                                         code_challenge_method="S256")
        self.assertIn("code", location_params(h)[1])

    def test_consent_expires_after_the_clients_period(self):
        lasting = Client(self.srv)
        expiring = Client(self.srv, extra_request={
            "additionalConfig": {"consent_expire_in_mins": 10}})
        subjects, first = {}, {}
        for client in (lasting, expiring):
            code, verifier, *_ = login(self.srv, client)
            first[client] = tokens(client, code, verifier)
            subjects[client] = jwt_parts(first[client]["id_token"])[1]["sub"]
        doc, expires_at = self.consent_record(lasting, subjects[lasting])
        self.assertEqual(expires_at, 0)
        self.assertEqual(first[lasting]["expires_in"], 3600)
        doc, expires_at = self.consent_record(expiring, subjects[expiring])
        self.assertEqual(expires_at, doc["given_at"] + 600)
        # The tokens of a login under an expiring consent do not outlive it (esignet.md §5.2),
        # when the consent was just given and when it is reused.
        code, verifier, details, action, _ = login(self.srv, expiring)
        self.assertEqual(action, "NOCAPTURE")
        for tok in (first[expiring], tokens(expiring, code, verifier)):
            for t in (tok["id_token"], tok["access_token"]):
                claims = jwt_parts(t)[1]
                self.assertLessEqual(claims["exp"], expires_at)
                self.assertGreater(claims["exp"], claims["iat"] + 500)
            self.assertLessEqual(tok["expires_in"], 600)
            self.assertEqual(tok["expires_in"], jwt_parts(tok["access_token"])[1]["exp"] -
                             jwt_parts(tok["access_token"])[1]["iat"])
        # Once the period is over (moved into the past in the store, instead of waiting ten
        # minutes), the next login asks again.
        db = sqlite3.connect(os.path.join(self.srv.tmp, "esignet.db"))
        try:
            with db:
                db.execute("UPDATE records SET expires_at = ? WHERE collection = 'consents' AND "
                           "key = ?", (int(time.time()) - 1,
                                       expiring.client_id + "|" + subjects[expiring]))
        finally:
            db.close()
        code, verifier, details, action, _ = login(self.srv, expiring)
        self.assertEqual(action, "CAPTURE")
        doc, new_expiry = self.consent_record(expiring, subjects[expiring])
        self.assertGreater(new_expiry, int(time.time()) + 500)

    def test_nothing_requested_needs_no_consent(self):
        client = Client(self.srv)
        code, verifier, details, action, _ = login(self.srv, client, scope="openid")
        self.assertEqual(action, "NOCAPTURE")
        self.assertEqual(details["essentialClaims"] + details["voluntaryClaims"], [])
        info = self.claims_of(client, code, verifier)
        self.assertEqual(set(info) - {"sub", "iss", "aud", "iat"}, set())


class ConsentAcrossRestart(unittest.TestCase):
    def test_consent_and_clients_survive_a_restart(self):
        srv = OidcServer().start()
        try:
            client = Client(srv)
            code, verifier, details, action, _ = login(srv, client)
            self.assertEqual(action, "CAPTURE")
            sub = jwt_parts(tokens(client, code, verifier)["id_token"])[1]["sub"]
            srv.restart()
            code, verifier, details, action, _ = login(srv, client)
            self.assertEqual(action, "NOCAPTURE")
            tok = tokens(client, code, verifier)
            self.assertEqual(jwt_parts(tok["id_token"])[1]["sub"], sub)
            self.assertIn("email", jwt_parts(userinfo(srv, tok["access_token"])[2].decode())[1])
        finally:
            srv.stop()


class Userinfo(ServerTest):
    """Encrypted and localised userinfo, expired tokens."""

    def test_encrypted_userinfo_is_a_nested_jwt(self):
        enc_key = jose(["keygen", "RSA-2048", "--kid", "enc-1", "--alg", "RSA-OAEP-256", "--use",
                        "enc"])
        enc_public = json.loads(jose(["pub", "-k", "/dev/stdin"], enc_key.encode()))
        client = Client(self.srv, extra_request={
            "encPublicKey": enc_public,
            "additionalConfig": {"userinfo_response_type": "JWE"}})
        code, verifier, details, *_ = login(
            self.srv, client, scope="openid", accepted=["email", "birthdate"],
            claims=json.dumps({"userinfo": {"email": {"essential": True}, "name": None,
                                            "birthdate": None}}))
        tok = tokens(client, code, verifier)
        status, h, body = userinfo(self.srv, tok["access_token"])
        self.assertEqual(status, 200)
        self.assertEqual(h["content-type"], "application/jwt")
        jwe = body.decode()
        self.assertEqual(len(jwe.split(".")), 5)
        header = json.loads(b64url_decode(jwe.split(".")[0]))
        self.assertEqual((header["alg"], header["enc"], header["cty"], header["kid"]),
                         ("RSA-OAEP-256", "A256GCM", "JWT", "enc-1"))
        with tempfile.NamedTemporaryFile("w", suffix=".jwk", delete=False) as f:
            f.write(enc_key)
        try:
            inner = jose(["decrypt", "-k", f.name, "-a", "RSA-OAEP-256", "-e", "A256GCM"],
                         jwe.encode())
        finally:
            os.unlink(f.name)
        claims = verify_with_jwks(self.srv, inner)
        id_claims = jwt_parts(tok["id_token"])[1]
        self.assertEqual((claims["sub"], claims["aud"], claims["iss"]),
                         (id_claims["sub"], client.client_id, self.srv.issuer))
        self.assertEqual(claims["email"], "siddharth.mansour@example.com")
        self.assertEqual(claims["birthdate"], "1987-11-25")
        self.assertNotIn("name", claims)  # declined
        # Another key cannot read it.
        other = jose(["keygen", "RSA-2048"])
        with tempfile.NamedTemporaryFile("w", suffix=".jwk", delete=False) as f:
            f.write(other)
        try:
            with self.assertRaises(RuntimeError):
                jose(["decrypt", "-k", f.name, "-a", "RSA-OAEP-256", "-e", "A256GCM"],
                     jwe.encode())
        finally:
            os.unlink(f.name)

    def test_claims_locales(self):
        code, verifier, *_ = login(self.srv, self.client, scope="openid profile",
                                   claims_locales="ar")
        status, _, body = userinfo(self.srv, tokens(self.client, code, verifier)["access_token"])
        claims = jwt_parts(body.decode())[1]
        self.assertEqual(claims["name"], "Siddharth K Mansour")
        self.assertEqual(claims["name#ar"], "\u0633\u064a\u062f\u0647\u0627\u0631\u062b \u0643 "
                                            "\u0645\u0646\u0635\u0648\u0631")
        self.assertEqual(claims["family_name#ar"], "\u0645\u0646\u0635\u0648\u0631")
        self.assertIn("locality", claims["address#ar"])
        self.assertNotIn("email#ar", claims)
        self.assertFalse([k for k in claims if k.endswith("#ara") or k.endswith("#eng")])
        # Without claims_locales only the plain values.
        code, verifier, *_ = login(self.srv, self.client, scope="openid profile")
        status, _, body = userinfo(self.srv, tokens(self.client, code, verifier)["access_token"])
        self.assertFalse([k for k in jwt_parts(body.decode())[1] if "#" in k])

    def test_expired_access_token(self):
        code, verifier, *_ = login(self.srv, self.client)
        tok = tokens(self.client, code, verifier)
        header, claims = jwt_parts(tok["access_token"])
        self.assertEqual(header["alg"], "RS256")
        # The same token, expired: signed with the server's own key (its key file) instead of
        # waiting an hour.
        now = int(time.time())
        claims.update(iat=now - 3700, exp=now - 100, auth_time=now - 3700)
        expired = sign_as_server(self.srv, claims, "at+jwt")
        for method, kw in (("GET", {"headers": {"Authorization": "Bearer " + expired}}),
                           ("POST", {"body": urllib.parse.urlencode(
                               {"access_token": expired}).encode(), "headers": {
                               "Content-Type": "application/x-www-form-urlencoded"}})):
            status, h, body = self.srv.request(method, USERINFO_PATH, **kw)
            self.assertEqual(status, 401, method)
            self.assertEqual(h["www-authenticate"], 'Bearer error="invalid_token", '
                             'error_description="the access token expired"')
        # Unexpired, the same forgery passes the signature and expiry checks and is refused
        # only because the server never issued it: the refusal above was the expiry.
        claims.update(exp=now + 600)
        status, h, _ = self.srv.request("GET", USERINFO_PATH, headers={
            "Authorization": "Bearer " + sign_as_server(self.srv, claims, "at+jwt")})
        self.assertEqual(status, 401)
        self.assertEqual(h["www-authenticate"], 'Bearer error="invalid_token", '
                         'error_description="the access token is revoked or expired"')
        self.assertEqual(userinfo(self.srv, tok["access_token"])[0], 200)


class TokenEndpoint(ServerTest):
    """Assertion algorithms and claims, jti scope, response headers, ID token algorithm."""

    def fresh(self, client=None):
        client = client or self.client
        code, verifier, *_ = login(self.srv, client)
        return code, verifier

    def assertInvalidClient(self, result):
        status, h, body = result
        self.assertEqual((status, body.get("error")), (400, "invalid_client"), body)

    def test_ps256_and_es256_assertions(self):
        cases = [("RSA-2048", "PS256", "RS256"), ("P-256", "ES256", "ES256"),
                 ("RSA-2048", "RS256", "RS256")]
        for kty, alg, id_alg in cases:
            client = Client(self.srv, kty=kty, alg=alg)
            code, verifier = self.fresh(client)
            status, h, body = client.token(code, verifier)
            self.assertEqual(status, 200, (alg, body))
            self.assertEqual(jwt_parts(client.assertion())[0]["alg"], alg)
            # The ID token uses the client's algorithm when the server holds a key for it
            # (the test key store has RS256 and ES256), else the default.
            header, claims = jwt_parts(body["id_token"])
            self.assertEqual(header["alg"], id_alg, alg)
            digest = hashlib.sha256(body["access_token"].encode()).digest()
            self.assertEqual(claims["at_hash"], b64url(digest[:16]))
            self.assertEqual(verify_with_jwks(self.srv, body["id_token"])["aud"],
                             client.client_id)
            status, _, info = userinfo(self.srv, body["access_token"])
            self.assertEqual(jwt_parts(info.decode())[0]["alg"], id_alg)
        # An assertion in an algorithm the client's key was not registered for is refused.
        es = Client(self.srv, kty="P-256", alg="ES256")
        rsa = Client(self.srv, kty="RSA-2048", alg="RS256")
        code, verifier = self.fresh(rsa)
        rsa.alg = "PS256"
        self.assertInvalidClient(rsa.token(code, verifier))
        code, verifier = self.fresh(es)
        self.assertEqual(es.token(code, verifier)[0], 200)

    def test_assertion_audience(self):
        token_url = self.srv.issuer + TOKEN_PATH
        for aud in (self.srv.issuer, [token_url], ["https://other.example", self.srv.issuer]):
            code, verifier = self.fresh()
            status, _, body = self.client.token(code, verifier,
                                                assertion=self.client.assertion(aud=aud))
            self.assertEqual(status, 200, (aud, body))
        code, verifier = self.fresh()
        for aud in (self.srv.issuer + "/", self.srv.issuer + "/v1/esignet/oauth/token",
                    self.srv.base + TOKEN_PATH, [], ["https://other.example"]):
            self.assertInvalidClient(self.client.token(
                code, verifier, assertion=self.client.assertion(aud=aud)))

    def test_assertion_time_claims(self):
        code, verifier = self.fresh()
        now = int(time.time())
        for claims in ({"iat": now + 120, "exp": now + 240},   # issued in the future
                       {"exp": None},                          # no expiry
                       {"exp": str(now + 60)},                 # not a number
                       {"nbf": now + 120, "exp": now + 240}):  # not yet valid
            self.assertInvalidClient(self.client.token(
                code, verifier, assertion=self.client.assertion(**claims)))
        # The code survived the refused client authentications.
        self.assertEqual(self.client.token(code, verifier)[0], 200)

    def test_jti_is_single_use_per_client(self):
        other = Client(self.srv)
        jti = "shared-" + secrets.token_hex(4)
        for client in (self.client, other):
            code, verifier = self.fresh(client)
            status, _, body = client.token(code, verifier, assertion=client.assertion(jti=jti))
            self.assertEqual(status, 200, body)
        code, verifier = self.fresh(other)
        self.assertInvalidClient(other.token(code, verifier, assertion=other.assertion(jti=jti)))
        self.assertEqual(other.token(code, verifier)[0], 200)

    def test_responses_are_not_cached(self):
        code, verifier = self.fresh()
        for status, h, body in (self.client.token(code, verifier),
                                self.client.token(code, verifier),
                                self.client.token("x", "y", extra={"grant_type": "password"})):
            self.assertEqual(h["cache-control"], "no-store", status)
            self.assertEqual(h["pragma"], "no-cache", status)
            self.assertTrue(h["content-type"].startswith("application/json"))


class Attempts(unittest.TestCase):
    """send-otp and authenticate limits per transaction, and blocking (esignet.md §1.5). A
    server per test: a blocked individual stays blocked for the whole server."""

    def setUp(self):
        self.srv = OidcServer().start()
        self.addCleanup(self.srv.stop)
        self.client = Client(self.srv)

    def send_otp(self, browser, details, hash_, individual_id, channel="email"):
        status, r = browser.call("/authorization/send-otp", {
            "transactionId": details["transactionId"], "individualId": individual_id,
            "otpChannels": [channel]}, details, hash_)
        return r

    def test_send_otp_limit_then_blocking(self):
        browser = Browser(self.srv)
        verifier, details, ctx = begin(browser, self.client)
        for _ in range(3):
            r = self.send_otp(browser, details, ctx["hash"], AISHA)
            self.assertFalse(r["errors"], r)
            self.assertTrue(r["response"]["maskedEmail"])
        r = self.send_otp(browser, details, ctx["hash"], AISHA)
        self.assertEqual(error_codes(r), ["no_attempts_left"])
        # The individual is now blocked, in every transaction, for OTPs and logins alike, even
        # with the right OTP.
        browser = Browser(self.srv)
        verifier, details, ctx = begin(browser, self.client)
        r = self.send_otp(browser, details, ctx["hash"], AISHA)
        self.assertEqual(error_codes(r), ["individual_id_blocked"])
        status, r = browser.call("/authorization/v3/authenticate", {
            "transactionId": details["transactionId"], "individualId": AISHA,
            "challengeList": otp_challenge()}, details, ctx["hash"])
        self.assertEqual(error_codes(r), ["individual_id_blocked"])
        # Other individuals are not affected, in the same transaction.
        r = authenticate(browser, details, ctx["hash"], otp_challenge(), DEMO_ID)
        self.assertFalse(r["errors"], r)

    def test_sending_again_within_the_limit_works(self):
        browser = Browser(self.srv)
        verifier, details, ctx = begin(browser, self.client)
        for _ in range(2):
            r = self.send_otp(browser, details, ctx["hash"], "2154189532", "phone")
            self.assertFalse(r["errors"], r)
            self.assertEqual(r["response"]["maskedMobile"], "*********2345")
        status, r = browser.call("/authorization/v3/authenticate", {
            "transactionId": details["transactionId"], "individualId": "2154189532",
            "challengeList": otp_challenge()}, details, ctx["hash"])
        self.assertFalse(r["errors"], r)

    def test_wrong_passwords_block_the_individual(self):
        browser = Browser(self.srv)
        verifier, details, ctx = begin(browser, self.client, acr_values=ACR_PWD)
        for _ in range(3):
            r = authenticate(browser, details, ctx["hash"], pwd_challenge("Wrong@Pass1"))
            self.assertEqual(error_codes(r), ["auth_failed"])
        # The fourth attempt is refused before the password is looked at.
        r = authenticate(browser, details, ctx["hash"], pwd_challenge())
        self.assertEqual(error_codes(r), ["no_attempts_left"])
        browser = Browser(self.srv)
        verifier, details, ctx = begin(browser, self.client, acr_values=ACR_PWD)
        r = authenticate(browser, details, ctx["hash"], pwd_challenge())
        self.assertEqual(error_codes(r), ["individual_id_blocked"])


if __name__ == "__main__":
    unittest.main()
