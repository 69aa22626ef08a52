"""The FAPI 2.0 Security Profile switch (oidc.profile: fapi2): pushed authorization requests,
PKCE and DPoP-bound tokens for every client, PS256/ES256 only, and the lifetimes it allows."""
import json
import os
import unittest
import urllib.parse

from harness import run_cli
from oidc_helpers import Browser, Client, OidcServer, jwt_parts, pkce
from test_dpop import DpopKey
from test_oidc_features import ServerTest
from test_par import authz_params, login_from_page

PAR_PATH = "/v1/esignet/oauth/par"
TOKEN_PATH = "/v1/esignet/oauth/v2/token"


def fapi2_server(oidc_extra="", keys="keys:\n  token_signing_alg: PS256\n"):
    """An OidcServer with profile fapi2 and PS256/ES256 keys; not started."""
    srv = OidcServer()
    with open(srv.config_path) as f:
        text = f.read()
    text = text.replace("algorithms: [RS256, ES256]", "algorithms: [PS256, ES256]")
    text = text.replace("oidc:\n", "oidc:\n  profile: fapi2\n" + oidc_extra, 1)
    with open(srv.config_path, "w") as f:
        f.write(text + keys)
    return srv


class Fapi2(ServerTest):
    CLIENT_KEY = ("P-256", "ES256")

    @classmethod
    def make_server(cls):
        return fapi2_server()

    def assertion(self, client=None, **overrides):
        """A client assertion for this profile: addressed to the issuer only (FAPI 2.0)."""
        return (client or self.client).assertion(aud=self.srv.issuer, **overrides)

    def push(self, client, params, dpop=None, assertion=None):
        form = dict(params)
        form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        form["client_assertion"] = assertion or self.assertion(client)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if dpop is not None:
            headers["DPoP"] = dpop.proof("POST", self.srv.issuer + PAR_PATH)
        status, _, data = self.srv.request("POST", PAR_PATH,
                                           body=urllib.parse.urlencode(form).encode(),
                                           headers=headers)
        return status, json.loads(data)

    def login(self, request_uri, client=None):
        client = client or self.client
        browser = Browser(self.srv)
        status, _, page = browser.request("GET", "/authorize?" + urllib.parse.urlencode(
            {"client_id": client.client_id, "request_uri": request_uri}))
        self.assertEqual(status, 200, page[:300])
        return login_from_page(browser, page)[1]["code"]

    def test_discovery(self):
        status, _, data = self.srv.request("GET", "/.well-known/openid-configuration")
        doc = json.loads(data)
        self.assertIs(doc["require_pushed_authorization_requests"], True)
        self.assertEqual(doc["token_endpoint_auth_signing_alg_values_supported"],
                         ["PS256", "ES256"])
        self.assertEqual(doc["dpop_signing_alg_values_supported"], ["PS256", "ES256"])
        self.assertEqual(doc["id_token_signing_alg_values_supported"], ["PS256", "ES256"])
        self.assertEqual(doc["code_challenge_methods_supported"], ["S256"])

    def test_the_profile_flow(self):
        key = DpopKey()
        verifier, challenge = pkce()
        status, body = self.push(self.client, authz_params(self.client, challenge), dpop=key)
        self.assertEqual(status, 201, body)
        code = self.login(body["request_uri"])
        status, _, tokens = self.client.token(code, verifier, assertion=self.assertion(), headers={
            "DPoP": key.proof("POST", self.srv.issuer + TOKEN_PATH)})
        self.assertEqual(status, 200, tokens)
        self.assertEqual(tokens["token_type"], "DPoP")
        self.assertIn(jwt_parts(tokens["id_token"])[0]["alg"], ("PS256", "ES256"))
        self.assertEqual(jwt_parts(tokens["access_token"])[0]["alg"], "PS256")

    def test_what_the_profile_refuses(self):
        verifier, challenge = pkce()
        # A plain authorization request.
        status, h, _ = Browser(self.srv).authorize(self.client, code_challenge=challenge,
                                                   code_challenge_method="S256")
        self.assertEqual(status, 303)
        self.assertIn("error=invalid_request", h["location"])
        # PKCE is required even at PAR.
        status, body = self.push(self.client, authz_params(
            self.client, None, code_challenge_method=None))
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        # Client assertions addressed to anything but the issuer as a string (FAPI 2.0
        # §5.3.2.1: against audience injection), and signed with RS256.
        for aud in (self.srv.issuer + PAR_PATH, self.srv.issuer + TOKEN_PATH, [self.srv.issuer]):
            status, body = self.push(self.client, authz_params(self.client, challenge),
                                     assertion=self.client.assertion(aud=aud))
            self.assertEqual((status, body["error"]), (400, "invalid_client"), aud)
        ps = Client(self.srv, kty="RSA-2048", alg="PS256")
        ps.alg = "RS256"
        status, body = self.push(ps, authz_params(ps, challenge))
        self.assertEqual((status, body["error"]), (400, "invalid_client"))
        # A signing key registered for RS256 is refused at registration.
        with self.assertRaises(RuntimeError) as e:
            Client(self.srv)
        self.assertIn("invalid_public_key", str(e.exception))
        # Tokens without DPoP, and DPoP proofs signed with RS256.
        status, body = self.push(self.client, authz_params(self.client, challenge))
        self.assertEqual(status, 201, body)
        code = self.login(body["request_uri"])
        status, _, tokens = self.client.token(code, verifier, assertion=self.assertion())
        self.assertEqual((status, tokens["error"]), (400, "invalid_dpop_proof"))
        rs = DpopKey(kty="RSA-2048", alg="RS256")
        status, _, tokens = self.client.token(code, verifier, assertion=self.assertion(), headers={
            "DPoP": rs.proof("POST", self.srv.issuer + TOKEN_PATH)})
        self.assertEqual((status, tokens["error"]), (400, "invalid_dpop_proof"))
        # The refused proofs left the code usable.
        key = DpopKey(kty="RSA-2048", alg="PS256")
        status, _, tokens = self.client.token(code, verifier, assertion=self.assertion(), headers={
            "DPoP": key.proof("POST", self.srv.issuer + TOKEN_PATH)})
        self.assertEqual((status, tokens.get("token_type")), (200, "DPoP"), tokens)


class Fapi2Configuration(unittest.TestCase):
    def check(self, srv):
        try:
            return run_cli(["--check-config", srv.config_path])
        finally:
            srv.stop()

    def test_settings_the_profile_does_not_allow(self):
        code, _, err = self.check(fapi2_server())
        self.assertEqual(code, 0, err)
        code, _, err = self.check(fapi2_server("  lifetimes:\n    code: 2m\n"))
        self.assertNotEqual(code, 0)
        self.assertIn("code lives at most 60 s", err)
        code, _, err = self.check(fapi2_server("  lifetimes:\n    pushed_request: 600s\n"))
        self.assertNotEqual(code, 0)
        self.assertIn("request_uri lives less than 600 s", err)
        code, _, err = self.check(fapi2_server("  lifetimes:\n    pushed_request: 599s\n"))
        self.assertEqual(code, 0, err)
        code, _, err = self.check(fapi2_server(keys="keys:\n  token_signing_alg: RS256\n"))
        self.assertNotEqual(code, 0)
        self.assertIn('profile fapi2 allows PS256 or ES256, not "RS256"', err)


if __name__ == "__main__":
    unittest.main()
