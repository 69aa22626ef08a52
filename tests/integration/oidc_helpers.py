"""A relying party and a browser for the OpenID Connect integration tests.

The relying party signs its private_key_jwt assertions with tools/esg-jose; the browser keeps
cookies and drives eSignet's browser APIs the way eSignet's UI does (CSRF token, oauth-details-key
and oauth-details-hash headers). Everything runs against a Server from harness.py.
"""
import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import secrets
import subprocess
import time
import urllib.parse

from harness import BASE_CONFIG, SOURCE_DIR, Server

BUILD_DIR = os.environ.get("ESG_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
ESG_JOSE = os.path.join(BUILD_DIR, "tools", "esg-jose", "esg-jose")
ADMIN_TOKEN = "test-admin-token"
ACR_OTP = "mosip:idp:acr:generated-code"
DEMO_ID = "8267411571"
DEMO_PASSWORD = "Sid@Demo2024"  # plugins/identity-mock/README.md

OIDC_CONFIG = BASE_CONFIG.replace(
    "  load: [keystore-file, storage-sqlite]\n",
    "  load: [keystore-file, storage-sqlite, identity-mock]\n") + """\
identity_backends:
  - name: mock
    type: mock
    options:
      identities: {identities}
      fixed_otp: "111111"
oidc:
  clients:
    admin_token_sha256: {admin_hash}
"""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token):
    head, payload, _ = token.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(payload))


def now_iso():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def jose(args, data=b""):
    p = subprocess.run([ESG_JOSE] + args, input=data, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("esg-jose %s: %s" % (args, p.stderr.decode()))
    return p.stdout.decode().strip()


class OidcServer(Server):
    """A Server with the mock identity back end and the client management API enabled."""

    def __init__(self, extra="", fixed_otp=True, **kw):
        """fixed_otp=False: the mock sends no OTPs and the OTP plugins (authenticator-otp and
        the notifiers, loaded then) must be configured in `extra`."""
        identities = os.environ.get(
            "ESG_TEST_IDENTITIES", os.path.join(SOURCE_DIR, "config", "identities.json"))
        text = OIDC_CONFIG.replace("{identities}", identities).replace(
            "{admin_hash}", hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()) + extra
        if not fixed_otp:
            text = text.replace('      fixed_otp: "111111"\n', "").replace(
                "identity-mock]\n",
                "identity-mock, authenticator-otp, notifier-log, notifier-smtp]\n")
        # Server formats its config with str.format: braces of the template must survive.
        super().__init__(config_text=text, **kw)

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def issuer(self):
        return "http://127.0.0.1:8088"

    def api(self, method, path, request=None, headers=None):
        body = None
        hdrs = dict(headers or {})
        if request is not None:
            body = json.dumps({"requestTime": now_iso(), "request": request}).encode()
            hdrs["Content-Type"] = "application/json"
        status, h, data = self.request(method, "/v1/esignet" + path, body=body, headers=hdrs)
        return status, h, (json.loads(data) if data else None)


class Client:
    """A registered relying party with its own key."""

    def __init__(self, srv, kty="RSA-2048", alg="RS256", client_id=None, extra_request=None,
                 redirect_uri="https://rp.example/cb"):
        self.srv = srv
        self.alg = alg
        self.client_id = client_id or "client-" + secrets.token_hex(6)
        self.redirect_uri = redirect_uri
        self.key = jose(["keygen", kty, "--kid", "k-" + self.client_id, "--alg", alg])
        self.public = json.loads(jose(["pub", "-k", "/dev/stdin"], self.key.encode()))
        request = {
            "clientId": self.client_id,
            "clientName": "Test client " + self.client_id,
            "publicKey": self.public,
            "relyingPartyId": "rp-" + self.client_id,
            "userClaims": ["name", "email", "phone_number", "birthdate", "gender", "address",
                           "picture", "given_name", "family_name"],
            "authContextRefs": [ACR_OTP, "mosip:idp:acr:password"],
            "logoUri": "https://rp.example/logo.png",
            "redirectUris": [redirect_uri],
            "grantTypes": ["authorization_code"],
            "clientAuthMethods": ["private_key_jwt"],
        }
        request.update(extra_request or {})
        status, _, body = srv.api("POST", "/client-mgmt/client", request,
                                  {"Authorization": "Bearer " + ADMIN_TOKEN})
        if status != 200 or body.get("errors"):
            raise RuntimeError("client registration failed: %s %s" % (status, body))

    def sign(self, claims, header=None):
        hdr = {"typ": "JWT"}
        hdr.update(header or {})
        path = "/tmp/esg-client-%s.jwk" % self.client_id
        with open(path, "w") as f:
            f.write(self.key)
        try:
            return jose(["sign", "-k", path, "-a", self.alg, "-H", json.dumps(hdr)],
                        json.dumps(claims).encode())
        finally:
            os.unlink(path)

    def assertion(self, **overrides):
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id,
                  "aud": self.srv.issuer + "/v1/esignet/oauth/v2/token",
                  "iat": now, "exp": now + 120, "jti": secrets.token_urlsafe(16)}
        claims.update(overrides)
        for k in [k for k, v in claims.items() if v is None]:
            del claims[k]
        return self.sign(claims)

    def token(self, code, verifier, redirect_uri=None, assertion=None, extra=None, headers=None):
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri or self.redirect_uri,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion or self.assertion()}
        if verifier is not None:
            form["code_verifier"] = verifier
        form.update(extra or {})
        status, h, data = self.srv.request(
            "POST", "/v1/esignet/oauth/v2/token", body=urllib.parse.urlencode(form).encode(),
            headers=dict({"Content-Type": "application/x-www-form-urlencoded"}, **(headers or {})))
        return status, h, json.loads(data)


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge


class Browser:
    """Cookies and the eSignet UI's calls."""

    def __init__(self, srv):
        self.srv = srv
        self.cookies = {}
        self.set_cookie_lines = []  # every Set-Cookie header received, as sent

    def _cookie_header(self):
        return "; ".join("%s=%s" % kv for kv in self.cookies.items())

    def request(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = self._cookie_header()
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            for k, v in resp.getheaders():
                if k.lower() == "set-cookie":
                    self.set_cookie_lines.append(v)
                    name, _, rest = v.partition("=")
                    self.cookies[name.strip()] = rest.split(";")[0]
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def authorize(self, client, **params):
        """GETs /authorize; returns (status, headers, body) without following redirects."""
        query = {"client_id": client.client_id, "redirect_uri": client.redirect_uri,
                 "response_type": "code", "scope": "openid profile email",
                 "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(12),
                 "acr_values": ACR_OTP}
        query.update(params)
        query = {k: v for k, v in query.items() if v is not None}
        return self.request("GET", "/authorize?" + urllib.parse.urlencode(query))

    @staticmethod
    def page_details(body):
        text = body.decode()
        m = re.search(r'<script type="application/json" id="oauth-details">(.*?)</script>', text,
                      re.S)
        c = re.search(r'<script type="application/json" id="login-context">(.*?)</script>', text,
                      re.S)
        if not m or not c:
            raise AssertionError("no login page: " + text[:300])
        return json.loads(m.group(1)), json.loads(c.group(1))

    def csrf(self):
        status, _, body = self.request("GET", "/v1/esignet/csrf/token")
        assert status == 200, status
        return json.loads(body)["token"]

    def call(self, path, request, details, hash_, method="POST"):
        token = self.cookies.get("XSRF-TOKEN") or self.csrf()
        headers = {"X-XSRF-TOKEN": token, "oauth-details-key": details["transactionId"],
                   "oauth-details-hash": hash_}
        body = None
        if request is not None:
            body = json.dumps({"requestTime": now_iso(), "request": request}).encode()
            headers["Content-Type"] = "application/json"
        status, h, data = self.request(method, "/v1/esignet" + path, body=body, headers=headers)
        return status, json.loads(data) if data else None

    def login_otp(self, details, hash_, individual_id=DEMO_ID, otp="111111"):
        tid = details["transactionId"]
        status, r = self.call("/authorization/send-otp", {
            "transactionId": tid, "individualId": individual_id, "otpChannels": ["email"]},
            details, hash_)
        assert status == 200 and not r["errors"], r
        status, r = self.call("/authorization/v3/authenticate", {
            "transactionId": tid, "individualId": individual_id,
            "challengeList": [{"authFactorType": "OTP", "challenge": otp,
                               "format": "alpha-numeric"}]}, details, hash_)
        return r

    def consent(self, details, hash_, accepted=None):
        tid = details["transactionId"]
        if accepted is None:
            accepted = details["essentialClaims"] + details["voluntaryClaims"]
        status, r = self.call("/authorization/auth-code", {
            "transactionId": tid, "acceptedClaims": accepted, "permittedAuthorizeScopes": []},
            details, hash_)
        return r


def full_login(srv, client, browser=None, **params):
    """Runs /authorize, OTP login and consent; returns (code, verifier, details, state)."""
    browser = browser or Browser(srv)
    verifier, challenge = pkce()
    status, h, body = browser.authorize(client, code_challenge=challenge,
                                        code_challenge_method="S256", **params)
    assert status == 200, (status, h.get("location"), body[:300])
    details, ctx = Browser.page_details(body)
    r = browser.login_otp(details, ctx["hash"])
    assert not r["errors"], r
    r = browser.consent(details, ctx["hash"])
    assert not r["errors"], r
    return r["response"]["code"], verifier, details, r["response"]["state"], browser
