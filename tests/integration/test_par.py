"""Pushed authorization requests (RFC 9126; esignet.md §3.3, §4.2): the PAR endpoint's client
authentication, validation and response, the single use of a request_uri at /authorize and at
par-oauth-details, clients and servers that require PAR, and discovery."""
import json
import secrets
import time
import unittest
import urllib.parse

from oidc_helpers import ACR_OTP, Browser, Client, OidcServer, jwt_parts, pkce
from test_oidc_features import ServerTest

PAR_PATH = "/v1/esignet/oauth/par"
URN = "urn:ietf:params:oauth:request_uri:"


def authz_params(client, challenge, **overrides):
    params = {"client_id": client.client_id, "redirect_uri": client.redirect_uri,
              "response_type": "code", "scope": "openid profile email",
              "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(12),
              "acr_values": ACR_OTP, "code_challenge": challenge,
              "code_challenge_method": "S256"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def push(srv, client, params, assertion=None, auth=True):
    """POSTs a pushed authorization request; returns (status, headers, JSON body)."""
    form = dict(params)
    if auth:
        form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        form["client_assertion"] = assertion or client.assertion(aud=srv.issuer + PAR_PATH)
    status, h, data = srv.request("POST", PAR_PATH, body=urllib.parse.urlencode(form).encode(),
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    return status, h, json.loads(data)


def login_from_page(browser, body):
    """OTP login and consent on the page /authorize served; returns the auth-code response."""
    details, ctx = Browser.page_details(body)
    r = browser.login_otp(details, ctx["hash"])
    assert not r["errors"], r
    r = browser.consent(details, ctx["hash"])
    assert not r["errors"], r
    return details, r["response"]


class PushedRequests(ServerTest):
    def pushed(self, **overrides):
        verifier, challenge = pkce()
        params = authz_params(self.client, challenge, **overrides)
        status, h, body = push(self.srv, self.client, params)
        self.assertEqual(status, 201, body)
        return verifier, params, body

    def test_pushed_request_signs_in(self):
        verifier, params, body = self.pushed()
        self.assertTrue(body["request_uri"].startswith(URN), body)
        self.assertEqual(len(body["request_uri"]) - len(URN), 43)
        self.assertEqual(body["expires_in"], 60)
        # Only client_id and request_uri travel through the browser.
        browser = Browser(self.srv)
        status, _, page = browser.request("GET", "/authorize?" + urllib.parse.urlencode(
            {"client_id": self.client.client_id, "request_uri": body["request_uri"]}))
        self.assertEqual(status, 200, page[:300])
        details, code = login_from_page(browser, page)
        self.assertEqual(details["redirectUri"], self.client.redirect_uri)
        self.assertEqual(code["state"], params["state"])
        status, _, tokens = self.client.token(code["code"], verifier)
        self.assertEqual(status, 200, tokens)
        self.assertEqual(jwt_parts(tokens["id_token"])[1]["nonce"], params["nonce"])

    def test_request_uri_is_single_use_and_bound_to_its_client(self):
        _, _, body = self.pushed()
        query = {"client_id": self.client.client_id, "request_uri": body["request_uri"]}
        other = Client(self.srv)
        # Another client's client_id with this request_uri: refused locally, and it uses it up.
        status, h, _ = Browser(self.srv).request("GET", "/authorize?" + urllib.parse.urlencode(
            dict(query, client_id=other.client_id)))
        self.assertEqual(status, 400)
        self.assertNotIn("location", h)
        status, h, _ = Browser(self.srv).request("GET", "/authorize?" + urllib.parse.urlencode(
            query))
        self.assertEqual(status, 400)
        _, _, body = self.pushed()
        query["request_uri"] = body["request_uri"]
        self.assertEqual(Browser(self.srv).request(
            "GET", "/authorize?" + urllib.parse.urlencode(query))[0], 200)
        # Second use: an error page, never a redirect.
        status, h, _ = Browser(self.srv).request("GET", "/authorize?" + urllib.parse.urlencode(
            query))
        self.assertEqual(status, 400)
        self.assertNotIn("location", h)
        # A request_uri this server never issued, and a malformed one.
        for uri in (URN + "x" * 43, URN):
            status, h, _ = Browser(self.srv).request(
                "GET", "/authorize?" + urllib.parse.urlencode(dict(query, request_uri=uri)))
            self.assertEqual(status, 400, uri)
            self.assertNotIn("location", h)
        # A request object by reference (RFC 9101) is not supported: said to the relying party.
        status, h, _ = Browser(self.srv).authorize(
            self.client, request_uri="https://rp.example/request.jwt")
        self.assertEqual(status, 303)
        self.assertIn("error=request_uri_not_supported", h["location"])

    def test_parameters_come_only_from_the_pushed_request(self):
        _, params, body = self.pushed()
        browser = Browser(self.srv)
        status, _, page = browser.request("GET", "/authorize?" + urllib.parse.urlencode(
            {"client_id": self.client.client_id, "request_uri": body["request_uri"],
             "redirect_uri": "https://evil.example/cb", "scope": "openid",
             "state": "changed"}))
        self.assertEqual(status, 200)
        details, code = login_from_page(browser, page)
        self.assertEqual(details["redirectUri"], self.client.redirect_uri)
        self.assertEqual(code["state"], params["state"])

    def test_par_oauth_details(self):
        verifier, params, body = self.pushed()
        browser = Browser(self.srv)
        status, r = browser.call("/authorization/par-oauth-details", {
            "clientId": self.client.client_id, "requestUri": body["request_uri"]}, {
                "transactionId": ""}, "")
        self.assertEqual(status, 200)
        self.assertFalse(r["errors"], r)
        self.assertEqual(r["response"]["redirectUri"], self.client.redirect_uri)
        # Used up.
        status, r = browser.call("/authorization/par-oauth-details", {
            "clientId": self.client.client_id, "requestUri": body["request_uri"]}, {
                "transactionId": ""}, "")
        self.assertEqual(r["errors"][0]["errorCode"], "invalid_request")
        # par-oauth-details needs a requestUri, and oauth-details does not take one.
        status, r = browser.call("/authorization/par-oauth-details", {
            "clientId": self.client.client_id}, {"transactionId": ""}, "")
        self.assertEqual(r["errors"][0]["errorCode"], "invalid_request")
        _, _, body = self.pushed()
        status, r = browser.call("/authorization/v3/oauth-details", {
            "clientId": self.client.client_id, "requestUri": body["request_uri"]}, {
                "transactionId": ""}, "")
        self.assertEqual(r["errors"][0]["errorCode"], "invalid_request")

    def test_client_authentication(self):
        verifier, challenge = pkce()
        params = authz_params(self.client, challenge)
        # Without an assertion, with another audience, replayed, signed by another key.
        status, _, body = push(self.srv, self.client, params, auth=False)
        self.assertEqual((status, body["error"]), (400, "invalid_client"))
        status, _, body = push(self.srv, self.client, params,
                               assertion=self.client.assertion(aud="https://other.example"))
        self.assertEqual((status, body["error"]), (400, "invalid_client"))
        assertion = self.client.assertion(aud=self.srv.issuer + PAR_PATH)
        self.assertEqual(push(self.srv, self.client, params, assertion=assertion)[0], 201)
        status, _, body = push(self.srv, self.client, params, assertion=assertion)
        self.assertEqual((status, body["error"]), (400, "invalid_client"))
        other = Client(self.srv)
        status, _, body = push(self.srv, self.client, params,
                               assertion=other.assertion(aud=self.srv.issuer + PAR_PATH))
        self.assertEqual((status, body["error"]), (400, "invalid_client"))
        # An assertion whose exp is a real number (RFC 7519 NumericDate) is remembered for its
        # whole lifetime too, not refused and not forgotten early.
        assertion = self.client.assertion(aud=self.srv.issuer + PAR_PATH,
                                          exp=time.time() + 120.5)
        self.assertEqual(push(self.srv, self.client, params, assertion=assertion)[0], 201)
        time.sleep(2)  # longer than the 1 s an early version remembered such a jti for
        status, _, body = push(self.srv, self.client, params, assertion=assertion)
        self.assertEqual((status, body["error"]), (400, "invalid_client"))
        # The token endpoint's URL and the issuer are accepted audiences too (eSignet's set).
        for aud in (self.srv.issuer + "/v1/esignet/oauth/v2/token", self.srv.issuer):
            status, _, body = push(self.srv, self.client, params,
                                   assertion=self.client.assertion(aud=aud))
            self.assertEqual(status, 201, (aud, body))

    def test_the_request_is_validated_when_pushed(self):
        verifier, challenge = pkce()
        cases = [
            ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
            ({"redirect_uri": None}, "invalid_request"),
            ({"response_type": "token"}, "unsupported_response_type"),
            ({"scope": "profile"}, "invalid_scope"),
            ({"code_challenge_method": "plain"}, "invalid_request"),
            ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
            ({"request_uri": URN + "a" * 43}, "invalid_request"),
            ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
            ({"client_id": "someone-else"}, "invalid_client"),
        ]
        for overrides, error in cases:
            status, h, body = push(self.srv, self.client,
                                   authz_params(self.client, challenge, **overrides))
            self.assertEqual((status, body.get("error")), (400, error), overrides)
            self.assertEqual(h["cache-control"], "no-store")
        # client_id may be left out: the authenticated client is the one.
        status, _, body = push(self.srv, self.client,
                               authz_params(self.client, challenge, client_id=None))
        self.assertEqual(status, 201, body)
        # A repeated parameter or a JSON body is not a form.
        status, _, data = self.srv.request(
            "POST", PAR_PATH, body=b"scope=openid&scope=openid",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((status, json.loads(data)["error"]), (400, "invalid_request"))

    def test_discovery(self):
        for path in ("/.well-known/openid-configuration",
                     "/.well-known/oauth-authorization-server"):
            status, _, data = self.srv.request("GET", path)
            doc = json.loads(data)
            self.assertEqual(doc["pushed_authorization_request_endpoint"],
                             self.srv.issuer + PAR_PATH)
            self.assertIs(doc["require_pushed_authorization_requests"], False)


class ClientRequiresPar(ServerTest):
    CLIENT_REQUEST = {"additionalConfig": {"require_pushed_authorization_requests": True}}

    def test_only_pushed_requests(self):
        verifier, challenge = pkce()
        browser = Browser(self.srv)
        status, h, _ = browser.authorize(self.client, code_challenge=challenge,
                                         code_challenge_method="S256")
        self.assertEqual(status, 303)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(h["location"]).query))
        self.assertEqual(q["error"], "invalid_request")
        status, _, body = push(self.srv, self.client, authz_params(self.client, challenge))
        self.assertEqual(status, 201, body)
        status, _, page = browser.request("GET", "/authorize?" + urllib.parse.urlencode(
            {"client_id": self.client.client_id, "request_uri": body["request_uri"]}))
        self.assertEqual(status, 200)
        details, code = login_from_page(browser, page)
        self.assertEqual(self.client.token(code["code"], verifier)[0], 200)


class ShortLivedRequests(unittest.TestCase):
    """A server that requires PAR of every client, with request_uris that live one second."""

    @classmethod
    def setUpClass(cls):
        cls.srv = OidcServer(extra_config="")
        with open(cls.srv.config_path) as f:
            text = f.read()
        with open(cls.srv.config_path, "w") as f:
            f.write(text.replace("oidc:\n", "oidc:\n  require_pushed_authorization_requests: true\n"
                                 "  lifetimes:\n    pushed_request: 1s\n", 1))
        cls.srv.start()
        cls.client = Client(cls.srv)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_server_requires_par_and_request_uris_expire(self):
        status, _, data = self.srv.request("GET", "/.well-known/openid-configuration")
        self.assertIs(json.loads(data)["require_pushed_authorization_requests"], True)
        verifier, challenge = pkce()
        status, h, _ = Browser(self.srv).authorize(self.client, code_challenge=challenge,
                                                   code_challenge_method="S256")
        self.assertEqual(status, 303)
        self.assertIn("error=invalid_request", h["location"])
        status, _, body = push(self.srv, self.client, authz_params(self.client, challenge))
        self.assertEqual((status, body["expires_in"]), (201, 1))
        query = {"client_id": self.client.client_id, "request_uri": body["request_uri"]}
        # One use only, so the request is made once, after the lifetime has surely passed (not a
        # synchronisation: the time itself is what is tested).
        time.sleep(1.5)
        status, h, _ = Browser(self.srv).request(
            "GET", "/authorize?" + urllib.parse.urlencode(query))
        self.assertEqual(status, 400)
        self.assertNotIn("location", h)


if __name__ == "__main__":
    unittest.main()
