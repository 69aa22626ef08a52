"""DPoP (RFC 9449) at the token, userinfo and PAR endpoints: tokens bound to the proof's key
(token_type DPoP, cnf.jkt), proofs checked for method, URL, age, replay and ath, bound tokens
refused as bearer tokens, codes bound at the authorization request (dpop_jkt, PAR) and clients
that require DPoP. The proof verifier itself has unit tests (tests/unit/test_dpop.c)."""
import base64
import hashlib
import json
import os
import secrets
import tempfile
import time
import unittest
import urllib.parse

from harness import read_response
from oidc_helpers import Browser, Client, OidcServer, full_login, jose, jwt_parts, pkce
from test_oidc_features import ServerTest
from test_par import authz_params, login_from_page, push

TOKEN_PATH = "/v1/esignet/oauth/v2/token"
USERINFO_PATH = "/v1/esignet/oidc/userinfo"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DpopKey:
    """A client's DPoP key pair and the proofs it signs."""

    def __init__(self, kty="P-256", alg="ES256"):
        self.alg = alg
        self.private = jose(["keygen", kty, "--alg", alg])
        full = json.loads(jose(["pub", "-k", "/dev/stdin"], self.private.encode()))
        members = ("crv", "kty", "x", "y") if full["kty"] == "EC" else ("e", "kty", "n")
        self.public = {k: full[k] for k in members}
        canonical = json.dumps(self.public, sort_keys=True, separators=(",", ":")).encode()
        self.jkt = b64url(hashlib.sha256(canonical).digest())

    def proof(self, htm, htu, access_token=None, iat=None, jti=None, typ="dpop+jwt", **extra):
        claims = {"jti": jti or secrets.token_urlsafe(16), "htm": htm, "htu": htu,
                  "iat": int(time.time()) if iat is None else iat}
        if access_token is not None:
            claims["ath"] = b64url(hashlib.sha256(access_token.encode()).digest())
        claims.update(extra)
        header = {"typ": typ, "alg": self.alg, "jwk": self.public}
        fd, path = tempfile.mkstemp(prefix="esg-dpop-")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(self.private)
            return jose(["sign", "-k", path, "-a", self.alg, "-H", json.dumps(header)],
                        json.dumps(claims).encode())
        finally:
            os.unlink(path)


class Dpop(ServerTest):
    def setUp(self):
        self.key = DpopKey()
        self.token_url = self.srv.issuer + TOKEN_PATH
        self.userinfo_url = self.srv.issuer + USERINFO_PATH

    def tokens(self, key=None, client=None, code_verifier=None, proof=None, **login):
        client = client or self.client
        if code_verifier is None:
            code, verifier, *_ = full_login(self.srv, client, **login)
        else:
            code, verifier = code_verifier
        headers = {}
        if proof is not None:
            headers["DPoP"] = proof
        elif key is not None:
            headers["DPoP"] = key.proof("POST", self.token_url)
        return client.token(code, verifier, headers=headers)

    def userinfo(self, token, scheme="DPoP", proof=None, method="GET"):
        headers = {"Authorization": "%s %s" % (scheme, token)}
        if proof is not None:
            headers["DPoP"] = proof
        return self.srv.request(method, USERINFO_PATH, headers=headers)

    def assertDpopChallenge(self, h, error):
        self.assertTrue(h["www-authenticate"].startswith('DPoP error="%s"' % error),
                        h["www-authenticate"])
        self.assertIn('algs="RS256 PS256 ES256"', h["www-authenticate"])

    def test_bound_tokens_and_userinfo(self):
        status, _, body = self.tokens(self.key)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["token_type"], "DPoP")
        at = body["access_token"]
        self.assertEqual(jwt_parts(at)[1]["cnf"], {"jkt": self.key.jkt})
        # Userinfo with the DPoP scheme and a proof over this request (with ath).
        status, _, _ = self.userinfo(at, proof=self.key.proof("GET", self.userinfo_url, at))
        self.assertEqual(status, 200)
        status, _, _ = self.userinfo(
            at, method="POST", proof=self.key.proof("POST", self.userinfo_url, at))
        self.assertEqual(status, 200)
        # As a bearer token, or without a proof: refused.
        status, h, _ = self.userinfo(at, scheme="Bearer")
        self.assertEqual(status, 401)
        self.assertDpopChallenge(h, "invalid_token")
        status, h, _ = self.userinfo(at)
        self.assertEqual(status, 401)
        self.assertDpopChallenge(h, "invalid_dpop_proof")
        # Proofs that are not for this request, this token or this key.
        other = DpopKey(kty="RSA-2048", alg="PS256")
        bad = {
            "another key": other.proof("GET", self.userinfo_url, at),
            "no ath": self.key.proof("GET", self.userinfo_url),
            "another token's ath": self.key.proof("GET", self.userinfo_url, at + "x"),
            "another method": self.key.proof("POST", self.userinfo_url, at),
            "another URL": self.key.proof("GET", self.token_url, at),
            "too old": self.key.proof("GET", self.userinfo_url, at, iat=int(time.time()) - 600),
            "from the future": self.key.proof("GET", self.userinfo_url, at,
                                              iat=int(time.time()) + 600),
            "wrong typ": self.key.proof("GET", self.userinfo_url, at, typ="JWT"),
        }
        for what, proof in bad.items():
            status, h, _ = self.userinfo(at, proof=proof)
            self.assertEqual(status, 401, what)
            self.assertDpopChallenge(h, "invalid_dpop_proof")
        # Not in the form body either (RFC 9449 §7.1: the Authorization header only).
        status, h, _ = self.srv.request(
            "POST", USERINFO_PATH, body=urllib.parse.urlencode({"access_token": at}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "DPoP": self.key.proof("POST", self.userinfo_url, at)})
        self.assertEqual(status, 401)
        self.assertDpopChallenge(h, "invalid_token")
        # A proof works once.
        proof = self.key.proof("GET", self.userinfo_url, at)
        self.assertEqual(self.userinfo(at, proof=proof)[0], 200)
        status, h, _ = self.userinfo(at, proof=proof)
        self.assertEqual(status, 401)
        self.assertDpopChallenge(h, "invalid_dpop_proof")

    def test_bearer_tokens_stay_bearer(self):
        status, _, body = self.tokens()
        self.assertEqual((status, body["token_type"]), (200, "Bearer"))
        self.assertNotIn("cnf", jwt_parts(body["access_token"])[1])
        at = body["access_token"]
        status, h, _ = self.userinfo(at, proof=self.key.proof("GET", self.userinfo_url, at))
        self.assertEqual(status, 401)
        self.assertDpopChallenge(h, "invalid_token")
        self.assertEqual(self.userinfo(at, scheme="Bearer")[0], 200)

    def test_token_endpoint_refuses_bad_proofs(self):
        cases = {
            "for userinfo": self.key.proof("POST", self.userinfo_url),
            "GET": self.key.proof("GET", self.token_url),
            "too old": self.key.proof("POST", self.token_url, iat=int(time.time()) - 600),
            "not a JWS": "not-a-proof",
            "alg none": "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6Im5vbmUifQ.e30.",
        }
        for what, proof in cases.items():
            code, verifier, *_ = full_login(self.srv, self.client)
            status, h, body = self.tokens(proof=proof, code_verifier=(code, verifier))
            self.assertEqual((status, body["error"]), (400, "invalid_dpop_proof"), what)
            self.assertEqual(h["cache-control"], "no-store")
            # A refused proof does not use the code up: the client can try again.
            status, _, body = self.tokens(key=self.key, code_verifier=(code, verifier))
            self.assertEqual((status, body.get("token_type")), (200, "DPoP"), (what, body))
        # A replayed proof.
        proof = self.key.proof("POST", self.token_url)
        self.assertEqual(self.tokens(proof=proof)[0], 200)
        status, _, body = self.tokens(proof=proof)
        self.assertEqual((status, body["error"]), (400, "invalid_dpop_proof"))

    def test_two_dpop_headers_are_refused(self):
        # RFC 9449 §4.3 point 1: exactly one DPoP header; http.client cannot repeat a header,
        # so the request is written by hand.
        code, verifier, *_ = full_login(self.srv, self.client)
        form = urllib.parse.urlencode({
            "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": self.client.redirect_uri,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.client.assertion()}).encode()
        proofs = [self.key.proof("POST", self.token_url) for _ in range(2)]
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                "application/x-www-form-urlencoded\r\nContent-Length: %d\r\nDPoP: %s\r\n"
                "DPoP: %s\r\nConnection: close\r\n\r\n" % (TOKEN_PATH, len(form), *proofs))
        sock = self.srv.connect()
        try:
            sock.sendall(head.encode() + form)
            status, h, body = read_response(sock)
        finally:
            sock.close()
        self.assertEqual((status, json.loads(body)["error"]), (400, "invalid_dpop_proof"))
        # The code was not touched: one proof redeems it.
        status, _, body = self.tokens(key=self.key, code_verifier=(code, verifier))
        self.assertEqual((status, body.get("token_type")), (200, "DPoP"), body)

    def test_code_bound_at_the_authorization_request(self):
        # dpop_jkt at /authorize (RFC 9449 §10): the code needs a proof of that key.
        for proof_key, expected in ((None, 400), (DpopKey(), 400), (self.key, 200)):
            status, _, body = self.tokens(key=proof_key, dpop_jkt=self.key.jkt)
            self.assertEqual(status, expected, body)
            if expected == 400:
                self.assertEqual(body["error"], "invalid_dpop_proof")
            else:
                self.assertEqual(jwt_parts(body["access_token"])[1]["cnf"]["jkt"], self.key.jkt)
        # A dpop_jkt that is not a thumbprint is refused at /authorize.
        verifier, challenge = pkce()
        status, h, _ = Browser(self.srv).authorize(self.client, dpop_jkt="abc",
                                                   code_challenge=challenge,
                                                   code_challenge_method="S256")
        self.assertEqual(status, 303)
        self.assertIn("error=invalid_request", h["location"])

    def test_pushed_request_with_a_proof_binds_the_code(self):
        par_url = self.srv.issuer + "/v1/esignet/oauth/par"
        verifier, challenge = pkce()
        params = authz_params(self.client, challenge)
        # A dpop_jkt that is not the proof's key.
        status, _, body = self.push_with(par_url, dict(params, dpop_jkt=DpopKey().jkt))
        self.assertEqual((status, body["error"]), (400, "invalid_dpop_proof"))
        status, _, body = self.push_with(par_url, params)
        self.assertEqual(status, 201, body)
        browser = Browser(self.srv)
        status, _, page = browser.request("GET", "/authorize?" + urllib.parse.urlencode(
            {"client_id": self.client.client_id, "request_uri": body["request_uri"]}))
        details, code = login_from_page(browser, page)
        status, _, body = self.tokens(key=DpopKey(), code_verifier=(code["code"], verifier))
        self.assertEqual((status, body["error"]), (400, "invalid_dpop_proof"))
        # Bound codes without a proof, and with the right key.
        for proof_key, expected in ((None, 400), (self.key, 200)):
            verifier, challenge = pkce()
            status, _, body = self.push_with(par_url, authz_params(self.client, challenge))
            browser = Browser(self.srv)
            status, _, page = browser.request("GET", "/authorize?" + urllib.parse.urlencode(
                {"client_id": self.client.client_id, "request_uri": body["request_uri"]}))
            details, code = login_from_page(browser, page)
            status, _, body = self.tokens(key=proof_key, code_verifier=(code["code"], verifier))
            self.assertEqual(status, expected, body)
            if expected == 200:
                self.assertEqual(jwt_parts(body["access_token"])[1]["cnf"]["jkt"], self.key.jkt)
        # An invalid proof at the PAR endpoint.
        status, _, body = self.push_with(par_url, authz_params(self.client, challenge),
                                         proof=self.key.proof("GET", par_url))
        self.assertEqual((status, body["error"]), (400, "invalid_dpop_proof"))

    def push_with(self, par_url, params, proof=None):
        form = dict(params)
        form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        form["client_assertion"] = self.client.assertion(aud=par_url)
        status, h, data = self.srv.request(
            "POST", "/v1/esignet/oauth/par", body=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "DPoP": proof or self.key.proof("POST", par_url)})
        return status, h, json.loads(data)

    def test_discovery(self):
        status, _, data = self.srv.request("GET", "/.well-known/openid-configuration")
        self.assertEqual(json.loads(data)["dpop_signing_alg_values_supported"],
                         ["RS256", "PS256", "ES256"])


class ClientRequiresDpop(ServerTest):
    CLIENT_REQUEST = {"additionalConfig": {"dpop_bound_access_tokens": True}}

    def test_tokens_only_with_a_proof(self):
        key = DpopKey(kty="RSA-2048", alg="RS256")
        code, verifier, *_ = full_login(self.srv, self.client)
        status, _, body = self.client.token(code, verifier)
        self.assertEqual((status, body["error"]), (400, "invalid_dpop_proof"))
        code, verifier, *_ = full_login(self.srv, self.client)
        status, _, body = self.client.token(code, verifier, headers={
            "DPoP": key.proof("POST", self.srv.issuer + TOKEN_PATH)})
        self.assertEqual((status, body["token_type"]), (200, "DPoP"), body)


class DpopNonces(ServerTest):
    """oidc.require_dpop_nonce (RFC 9449 §8, §9; what eSignet does): a proof needs a nonce this
    server issued; the refusal carries a fresh one."""

    @classmethod
    def make_server(cls):
        srv = OidcServer()
        with open(srv.config_path) as f:
            text = f.read()
        with open(srv.config_path, "w") as f:
            f.write(text.replace("oidc:\n", "oidc:\n  require_dpop_nonce: true\n"
                                 "  lifetimes:\n    dpop_proof: 10s\n", 1))
        return srv

    def test_nonce_dance_at_the_token_endpoint_and_userinfo(self):
        key = DpopKey()
        token_url = self.srv.issuer + TOKEN_PATH
        userinfo_url = self.srv.issuer + USERINFO_PATH
        code, verifier, *_ = full_login(self.srv, self.client)
        # Without a nonce, and with one this server never issued.
        for extra in ({}, {"nonce": "made-up-nonce"}):
            status, h, body = self.client.token(code, verifier, headers={
                "DPoP": key.proof("POST", token_url, **extra)})
            self.assertEqual((status, body["error"]), (400, "use_dpop_nonce"), extra)
            nonce = h["dpop-nonce"]
            self.assertRegex(nonce, r"^[A-Za-z0-9_-]{43}$")
        # The refusals left the code usable; with the issued nonce the proof is accepted.
        status, _, body = self.client.token(code, verifier, headers={
            "DPoP": key.proof("POST", token_url, nonce=nonce)})
        self.assertEqual((status, body.get("token_type")), (200, "DPoP"), body)
        at = body["access_token"]
        # Userinfo: 401 use_dpop_nonce with a fresh nonce, then 200 with it.
        status, h, _ = self.srv.request("GET", USERINFO_PATH, headers={
            "Authorization": "DPoP " + at, "DPoP": key.proof("GET", userinfo_url, at)})
        self.assertEqual(status, 401)
        self.assertTrue(h["www-authenticate"].startswith('DPoP error="use_dpop_nonce"'),
                        h["www-authenticate"])
        status, _, _ = self.srv.request("GET", USERINFO_PATH, headers={
            "Authorization": "DPoP " + at,
            "DPoP": key.proof("GET", userinfo_url, at, nonce=h["dpop-nonce"])})
        self.assertEqual(status, 200)

    def test_nonces_are_renewed_before_they_expire(self):
        key = DpopKey()
        userinfo_url = self.srv.issuer + USERINFO_PATH
        code, verifier, *_ = full_login(self.srv, self.client)
        token_url = self.srv.issuer + TOKEN_PATH
        _, h, _ = self.client.token(code, verifier, headers={"DPoP": key.proof("POST", token_url)})
        nonce = h["dpop-nonce"]
        status, h, body = self.client.token(code, verifier, headers={
            "DPoP": key.proof("POST", token_url, nonce=nonce)})
        self.assertEqual(status, 200, body)
        # A fresh nonce is not replaced on success...
        self.assertNotIn("dpop-nonce", h)
        at = body["access_token"]
        # ...but one past half its life (10 s here) is: the success carries the next one
        # (RFC 9449 §8.2). The wait is the nonce's age, the thing tested.
        time.sleep(5.5)
        status, h, _ = self.srv.request("GET", USERINFO_PATH, headers={
            "Authorization": "DPoP " + at,
            "DPoP": key.proof("GET", userinfo_url, at, nonce=nonce)})
        self.assertEqual(status, 200)
        self.assertRegex(h.get("dpop-nonce", ""), r"^[A-Za-z0-9_-]{43}$")
        self.assertNotEqual(h["dpop-nonce"], nonce)


if __name__ == "__main__":
    unittest.main()
