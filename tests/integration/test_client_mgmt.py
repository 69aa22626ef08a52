"""Client management API (eSignet §12) through the real server: authentication, envelopes, every
field rule and error code of the v1, v2 and v3 forms, updates, patches, status, and the
tools/esignet-client command line tool end to end.

Keys are made with the openssl command line, independently of the server's own JOSE code."""
import base64
import copy
import datetime
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest
import urllib.parse

from harness import Server, SOURCE_DIR

ADMIN_TOKEN = "client-mgmt-test-token_0123456789"
BASE = "/v1/esignet/client-mgmt"
ACR_OTP = "mosip:idp:acr:generated-code"
ACR_PWD = "mosip:idp:acr:password"
CLI = os.path.join(SOURCE_DIR, "tools", "esignet-client")


def oidc_config(token=ADMIN_TOKEN, wildcards=False):
    lines = ["oidc:", "  clients:", "    redirect_uri_wildcards: %s" % str(wildcards).lower()]
    if token is not None:
        lines.append('    admin_token_sha256: "%s"' % hashlib.sha256(token.encode()).hexdigest())
    return "\n".join(lines) + "\n"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(args, data=None):
    return subprocess.run(["openssl"] + args, input=data, capture_output=True, check=True,
                          timeout=120).stdout


def rsa_jwk(bits=2048):
    pem = openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:%d" % bits])
    modulus = openssl(["rsa", "-noout", "-modulus"], pem).decode().strip().split("=", 1)[1]
    return {"kty": "RSA", "n": b64url(bytes.fromhex(modulus)), "e": "AQAB"}


def ec_jwk():
    pem = openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
    point = openssl(["pkey", "-pubout", "-outform", "DER"], pem)[-65:]
    return {"kty": "EC", "crv": "P-256", "x": b64url(point[1:33]), "y": b64url(point[33:])}


def now_iso(delta_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


class Api:
    """Calls to one server with the envelope and the admin token."""

    def __init__(self, srv):
        self.srv = srv

    def call(self, method, path, request=None, token=ADMIN_TOKEN, headers=None, raw=None,
             request_time=None):
        hdrs = {"Content-Type": "application/json"}
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        hdrs.update(headers or {})
        body = raw
        if body is None and request is not None:
            body = json.dumps({"requestTime": request_time or now_iso(),
                               "request": request}).encode()
        status, h, data = self.srv.request(method, BASE + path, body=body, headers=hdrs)
        return status, h, (json.loads(data) if data else None)

    def ok(self, method, path, request=None):
        status, _, doc = self.call(method, path, request)
        if status != 200 or doc["errors"]:
            raise AssertionError("%s %s: %s %s" % (method, path, status, doc))
        return doc["response"]

    def errors(self, method, path, request=None, messages=True, **kw):
        """The sorted errorCodes of an answer that must be HTTP 200 with errors. With `messages`,
        each errorMessage must be the code or "<field>: <code>", as eSignet writes them."""
        status, _, doc = self.call(method, path, request, **kw)
        if status != 200 or doc["response"] is not None or not doc["errors"]:
            raise AssertionError("expected errors: %s %s" % (status, doc))
        for e in doc["errors"] if messages else []:
            self.assert_message(e)
        return sorted(e["errorCode"] for e in doc["errors"])

    @staticmethod
    def assert_message(e):
        if not (e["errorMessage"] == e["errorCode"] or e["errorMessage"].endswith(": " + e["errorCode"])):
            raise AssertionError("bad errorMessage: %s" % e)


_counter = [0]
MISSING = object()  # check_field(): leave the member out


def urlquote(text):
    return urllib.parse.quote(text, safe="")


def new_id(prefix="c"):
    _counter[0] += 1
    return "%s-%d-%s" % (prefix, _counter[0], os.urandom(3).hex())


def with_overrides(request, overrides):
    """Sets the members of `overrides` in `request`; a None value removes the member."""
    for k, v in overrides.items():
        if v is None:
            request.pop(k, None)
        else:
            request[k] = v
    return request


def create_request(client_id=None, key=None, **overrides):
    request = {
        "clientId": client_id or new_id(),
        "clientName": "Test RP",
        "clientNameLangMap": {"fra": "RP de test", "ara": "\u0627\u062e\u062a\u0628\u0627\u0631"},
        "publicKey": key or rsa_jwk(),
        "relyingPartyId": "rp-1",
        "userClaims": ["name", "email"],
        "authContextRefs": [ACR_OTP],
        "logoUri": "https://rp.example/logo.png",
        "redirectUris": ["https://rp.example/cb", "http://127.0.0.1:3000/cb",
                         "io.mosip.residentapp://oauth"],
        "grantTypes": ["authorization_code"],
        "clientAuthMethods": ["private_key_jwt"],
        "additionalConfig": {"userinfo_response_type": "JWS", "require_pkce": True,
                             "consent_expire_in_mins": 20,
                             "purpose": {"type": "login", "title": {"@none": "Log in"}}},
    }
    return with_overrides(request, overrides)


def update_request(**overrides):
    request = {
        "clientName": "Renamed RP",
        "clientNameLangMap": {"fra": "RP renomme"},
        "logoUri": "https://rp.example/logo2.png",
        "redirectUris": ["https://rp.example/cb2"],
        "userClaims": ["phone_number"],
        "authContextRefs": [ACR_PWD, ACR_OTP],
        "status": "ACTIVE",
        "grantTypes": ["authorization_code"],
        "clientAuthMethods": ["private_key_jwt"],
    }
    return with_overrides(request, overrides)


class ClientManagement(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_config=oidc_config()).start()
        cls.api = Api(cls.srv)
        # A pool of keys made once: RSA generation takes a while.
        cls.keys = [rsa_jwk() for _ in range(4)]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def fresh_key(self):
        return rsa_jwk() if not self.keys else self.keys.pop()

    def create(self, **overrides):
        request = create_request(key=overrides.pop("key", None) or self.fresh_key(), **overrides)
        response = self.api.ok("POST", "/client", request)
        self.assertEqual(response, {"clientId": request["clientId"], "status": "ACTIVE"})
        return request

    def get(self, client_id):
        return self.api.ok("GET", "/client/" + client_id)

    # -- authentication ------------------------------------------------------------------------

    def test_missing_token_is_401(self):
        for method, path, request in [("POST", "/client", create_request(key={"kty": "RSA"})),
                                      ("PUT", "/client/x", update_request()),
                                      ("PATCH", "/client/x", {"status": "ACTIVE"}),
                                      ("GET", "/client/x", None),
                                      ("POST", "/oidc-client", {}), ("PUT", "/oauth-client/x", {})]:
            status, headers, doc = self.api.call(method, path, request, token=None)
            self.assertEqual(status, 401, (method, path))
            self.assertEqual(headers["www-authenticate"], "Bearer")
            self.assertEqual(doc["errors"][0]["errorCode"], "invalid_token")
            self.assertIsNone(doc["response"])

    def test_wrong_token_is_401(self):
        cases = [{"Authorization": "Bearer " + ADMIN_TOKEN + "x"},
                 {"Authorization": "Bearer " + ADMIN_TOKEN[:-1]},
                 {"Authorization": "Basic " + ADMIN_TOKEN},
                 {"Authorization": "Bearer"},
                 {"Authorization": "Bearer " + hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()}]
        for headers in cases:
            status, h, doc = self.api.call("GET", "/client/x", token=None, headers=headers)
            self.assertEqual(status, 401, headers)
            self.assertIn("invalid_token", h["www-authenticate"])
            self.assertEqual(doc["errors"][0]["errorCode"], "invalid_token")
        # The scheme name is case-insensitive (RFC 9110 §11.1).
        status, _, doc = self.api.call("GET", "/client/nobody", token=None,
                                       headers={"Authorization": "bearer " + ADMIN_TOKEN})
        self.assertEqual(status, 200)
        self.assertEqual(doc["errors"][0]["errorCode"], "invalid_client_id")

    def test_token_never_logged(self):
        self.create()
        self.api.call("GET", "/client/x", token=ADMIN_TOKEN + "wrong")
        text = "".join(self.srv.lines)
        self.assertNotIn(ADMIN_TOKEN, text)
        self.assertIn("clients.create", text)

    def test_no_configured_token_refuses_everyone(self):
        with Server(extra_config=oidc_config(token=None)) as srv:
            api = Api(srv)
            status, headers, doc = api.call("POST", "/client", create_request(key=rsa_jwk()))
            self.assertEqual(status, 401)
            self.assertIn("invalid_token", headers["www-authenticate"])
            status, _, _ = api.call("GET", "/client/x", token=None)
            self.assertEqual(status, 401)

    # -- envelopes -----------------------------------------------------------------------------

    def test_envelope_errors(self):
        request = create_request(key=self.fresh_key())
        cases = [
            dict(request_time=now_iso(-300)),                 # more than 2 minutes old
            dict(request_time=now_iso(300)),                  # too far ahead
            dict(request_time=now_iso()[:-5] + "Z"),          # no milliseconds
            dict(request_time="2026-01-01 00:00:00.000Z"),
            dict(raw=json.dumps({"request": request}).encode()),
            dict(raw=json.dumps({"requestTime": now_iso(), "request": [request]}).encode()),
            dict(raw=json.dumps({"requestTime": now_iso()}).encode()),
            dict(raw=b"{not json"),
            dict(raw=b'{"requestTime":"x","requestTime":"y"}'),
            dict(headers={"Content-Type": "text/plain"}),
        ]
        for kw in cases:
            # The message explains what is wrong with the envelope; clients key on the code.
            self.assertEqual(self.api.errors("POST", "/client", request, messages=False, **kw),
                             ["invalid_request"], kw)
        # Nothing was created by any of them.
        self.assertEqual(self.api.errors("GET", "/client/" + request["clientId"]),
                         ["invalid_client_id"])
        # Within the leeway it is accepted.
        self.assertEqual(self.api.ok("POST", "/client", request)["status"], "ACTIVE")

    # -- create --------------------------------------------------------------------------------

    def test_create_and_read(self):
        request = self.create()
        shown = self.get(request["clientId"])
        self.assertEqual(shown["clientId"], request["clientId"])
        self.assertEqual(shown["clientName"], "Test RP")
        self.assertEqual(shown["clientNameLangMap"], request["clientNameLangMap"])
        self.assertEqual(shown["relyingPartyId"], "rp-1")
        self.assertEqual(shown["redirectUris"], request["redirectUris"])
        self.assertEqual(shown["userClaims"], ["name", "email"])
        self.assertEqual(shown["authContextRefs"], [ACR_OTP])
        self.assertEqual(shown["publicKey"]["n"], request["publicKey"]["n"])
        self.assertNotIn("d", shown["publicKey"])
        self.assertEqual(shown["additionalConfig"], request["additionalConfig"])
        self.assertEqual(shown["status"], "ACTIVE")
        self.assertTrue(shown["createdAt"].endswith("Z"))
        # An EC key works as well; repeated list items are kept once.
        request = self.create(key=ec_jwk(), userClaims=["name", "name"], additionalConfig=None)
        shown = self.get(request["clientId"])
        self.assertEqual(shown["publicKey"]["crv"], "P-256")
        self.assertEqual(shown["userClaims"], ["name"])
        self.assertEqual(shown["additionalConfig"], {})
        # Unknown members are ignored, as eSignet's JSON mapping ignores them.
        self.create(somethingElse=[1, 2])
        # Non-ASCII ids and names within the limits.
        request = self.create(clientId="cli\u00e9nt-" + os.urandom(2).hex(), clientName="\u00e9" * 256)
        self.assertEqual(self.get(urlquote(request["clientId"]))["clientName"], "\u00e9" * 256)

    def test_duplicate_client_id(self):
        request = self.create()
        again = create_request(client_id=request["clientId"], key=self.fresh_key())
        self.assertEqual(self.api.errors("POST", "/client", again), ["duplicate_client_id"])
        # The v1 and v2 forms share the same clients.
        self.assertEqual(self.api.errors("POST", "/oidc-client", again), ["duplicate_client_id"])

    def test_duplicate_public_key(self):
        request = self.create()
        again = create_request(key=dict(request["publicKey"]))
        self.assertEqual(self.api.errors("POST", "/client", again), ["duplicate_public_key"])
        self.assertEqual(self.api.errors("GET", "/client/" + again["clientId"]),
                         ["invalid_client_id"])
        # The same key with other optional members (kid, alg) is still the same key.
        again = create_request(key=dict(request["publicKey"], kid="other", alg="RS256"))
        self.assertEqual(self.api.errors("POST", "/client", again), ["duplicate_public_key"])
        ec = ec_jwk()
        self.create(key=ec)
        self.assertEqual(self.api.errors("POST", "/client", create_request(key=dict(ec))),
                         ["duplicate_public_key"])

    def check_field(self, field, code, values, method="POST", path="/client", base=None):
        for value in values:
            request = copy.deepcopy(base) if base is not None else create_request(
                key=self.keys[0] if self.keys else rsa_jwk())
            if value is MISSING:
                request.pop(field, None)
            else:
                request[field] = value
            status, _, doc = self.api.call(method, path, request)
            self.assertEqual(status, 200)
            self.assertEqual([(e["errorCode"], e["errorMessage"]) for e in doc["errors"]],
                             [(code, "%s: %s" % (field, code))], (field, value))

    def test_client_id_rules(self):
        self.check_field("clientId", "invalid_client_id",
                         [MISSING, None, "", "a b", "a\tb", "a/b", ".", "..", "x" * 101,
                          "\u00e9" * 101, 42, ["a"], "a\u0007b", "a\u0085b"])

    def test_client_name_rules(self):
        self.check_field("clientName", "invalid_client_name",
                         [MISSING, "", "   ", "x" * 257, 7, "a\nb", "a\u009fb"])

    def test_lang_map_rules(self):
        self.check_field("clientNameLangMap", "invalid_language_code",
                         [{"en": "x"}, {"ENG": "x"}, {"@none": "x"}, {"eng1": "x"}])
        self.check_field("clientNameLangMap", "invalid_client_name_value",
                         [{"eng": ""}, {"eng": "  "}, {"eng": 1}, {"eng": None}, {"eng": "a\rb"}])
        self.check_field("clientNameLangMap", "invalid_client_name_length", [{"eng": "x" * 51}])
        self.check_field("clientNameLangMap", "invalid_client_name", [["eng"], "eng"])

    def test_public_key_rules(self):
        good = self.keys[0] if self.keys else rsa_jwk()
        ec = ec_jwk()
        bad_point = dict(ec, y=ec["x"])
        self.check_field("publicKey", "invalid_public_key", [
            MISSING, {}, "key", dict(good, d=good["n"]),               # private member
            rsa_jwk(1024),                                             # too small
            {"kty": "oct", "k": "c2VjcmV0"},
            dict(good, kty="EC"), bad_point,
            dict(good, n=good["n"] + "="),                             # not canonical base64url
            dict(good, use="enc"), dict(good, alg="RSA-OAEP-256"), dict(good, alg="ES256"),
            dict(good, kid="a\nb"),
        ])

    def test_rp_id_rules(self):
        self.check_field("relyingPartyId", "invalid_rp_id", [MISSING, "", "a b", "r" * 101, 3])

    def test_claim_rules(self):
        self.check_field("userClaims", "invalid_claim",
                         [MISSING, ["name", "shoe_size"], ["name"] * 31, "name", [1], [""]])
        # An empty list is allowed at creation (eSignet: @Size(max = 30) without a minimum).
        self.create(userClaims=[])

    def test_acr_rules(self):
        self.check_field("authContextRefs", "invalid_acr",
                         [MISSING, [], ["mosip:idp:acr:static-code"], [ACR_OTP] * 31, ACR_OTP])

    def test_logo_rules(self):
        self.check_field("logoUri", "invalid_uri",
                         [MISSING, "", "logo.png", "javascript:alert(1)", "ftp://rp.example/l.png",
                          "data:image/png;base64,AAAA", "https://rp.example/a b", 5])

    def test_redirect_uri_rules(self):
        self.check_field("redirectUris", "invalid_redirect_uri", [
            MISSING, [], "https://rp.example/cb", ["https://rp.example/%d" % i for i in range(6)],
            ["https://rp.example/cb#fragment"], ["http://rp.example/cb"], ["/cb"],
            ["https://rp.example/*"], ["https://*.rp.example/cb"], ["javascript:alert(1)"],
            ["myapp:/cb"], ["HTTPS://rp.example/cb"], ["https://user@rp.example/cb"],
            ["https://rp.example/a/../b"], ["https://rp.example/\u00e9"], [""], [None],
        ])

    def test_grant_and_auth_rules(self):
        self.check_field("grantTypes", "unsupported_grant_type",
                         [MISSING, [], ["implicit"], ["client_credentials"],
                          ["authorization_code"] * 4])
        self.check_field("clientAuthMethods", "invalid_client_auth",
                         [MISSING, [], ["client_secret_basic"], ["none"],
                          ["private_key_jwt"] * 4])

    def test_additional_config_rules(self):
        self.check_field("additionalConfig", "invalid_additional_config", [
            [], "JWS", {"unknown": 1}, {"userinfo_response_type": "JWT"},
            {"consent_expire_in_mins": 9}, {"consent_expire_in_mins": "20"},
            {"consent_expire_in_mins": 20.5}, {"require_pkce": "true"},
            {"purpose": {"type": "shop"}}, {"purpose": {"title": {"@none": "x"}}},
            {"purpose": {"type": "login", "extra": 1}},
            {"purpose": {"type": "login", "title": {"eng": "no @none"}}},
            {"purpose": {"type": "login", "title": {"@none": 1}}},
            {"purpose": {"type": "login", "title": {"@none": "a\u0001"}}},
            {"signup_banner_required": True, "forgot_pwd_link_required": False,
             "purpose": {"type": "verify", "subTitle": {"@none": "x" * 2100}}},
        ])
        # Every documented member at once, including explicit nulls where the schema allows them.
        self.create(additionalConfig={
            "userinfo_response_type": "JWS", "signup_banner_required": True,
            "forgot_pwd_link_required": False, "consent_expire_in_mins": 10,
            "require_pushed_authorization_requests": True, "dpop_bound_access_tokens": True,
            "require_pkce": False,
            "purpose": {"type": "verify", "title": None, "subTitle": {"@none": "s", "fra": "t"}}})
        self.create(additionalConfig={"purpose": None})

    def test_one_error_per_invalid_field(self):
        request = create_request(key={"kty": "RSA"}, clientId="a b", clientName="",
                                 relyingPartyId=None, userClaims=["x"], authContextRefs=[],
                                 logoUri="nope", redirectUris=["http://evil.example/cb"],
                                 grantTypes=["implicit"], clientAuthMethods=["none"],
                                 additionalConfig={"x": 1})
        request["clientNameLangMap"] = {"en": "", "fr": "x" * 60}
        self.assertEqual(self.api.errors("POST", "/client", request), sorted([
            "invalid_client_id", "invalid_client_name", "invalid_language_code",
            "invalid_client_name_value", "invalid_client_name_length", "invalid_public_key", "invalid_rp_id", "invalid_claim",
            "invalid_acr", "invalid_uri", "invalid_redirect_uri", "unsupported_grant_type",
            "invalid_client_auth", "invalid_additional_config"]))

    # -- update, patch, status -----------------------------------------------------------------

    def test_update(self):
        request = self.create()
        cid = request["clientId"]
        self.assertEqual(self.api.ok("PUT", "/client/" + cid, update_request()),
                         {"clientId": cid, "status": "ACTIVE"})
        shown = self.get(cid)
        self.assertEqual(shown["clientName"], "Renamed RP")
        self.assertEqual(shown["clientNameLangMap"], {"fra": "RP renomme"})
        self.assertEqual(shown["redirectUris"], ["https://rp.example/cb2"])
        self.assertEqual(shown["userClaims"], ["phone_number"])
        self.assertEqual(shown["authContextRefs"], [ACR_PWD, ACR_OTP])
        self.assertEqual(shown["logoUri"], "https://rp.example/logo2.png")
        # PUT v3 replaces additionalConfig: absent means none.
        self.assertEqual(shown["additionalConfig"], {})
        # The public key, the relying party and the creation time cannot change.
        self.assertEqual(shown["publicKey"]["n"], request["publicKey"]["n"])
        self.assertEqual(shown["relyingPartyId"], "rp-1")
        self.assertLessEqual(shown["createdAt"], shown["updatedAt"])
        put = update_request(publicKey=rsa_jwk(), clientId="other", relyingPartyId="rp-2",
                             additionalConfig={"require_pkce": True})
        self.api.ok("PUT", "/client/" + cid, put)
        shown = self.get(cid)
        self.assertEqual(shown["publicKey"]["n"], request["publicKey"]["n"])
        self.assertEqual(shown["clientId"], cid)
        self.assertEqual(shown["relyingPartyId"], "rp-1")
        self.assertEqual(shown["additionalConfig"], {"require_pkce": True})
        # Unknown client.
        self.assertEqual(self.api.errors("PUT", "/client/" + new_id(), update_request()),
                         ["invalid_client_id"])
        self.assertEqual(self.api.errors("PUT", "/client/a%20b", update_request()),
                         ["invalid_client_id"])

    def test_update_rules(self):
        cid = self.create()["clientId"]
        path = "/client/" + cid
        base = update_request()
        self.check_field("status", "invalid_status", [MISSING, "", "active", "DISABLED", 1],
                         "PUT", path, base)
        self.check_field("userClaims", "invalid_claim", [MISSING, [], ["shoe_size"]], "PUT", path,
                         base)
        self.check_field("clientName", "invalid_client_name", [MISSING, " "], "PUT", path, base)
        self.check_field("redirectUris", "invalid_redirect_uri", [MISSING, ["ftp://x.example/"]],
                         "PUT", path, base)
        self.check_field("logoUri", "invalid_uri", [MISSING], "PUT", path, base)
        self.check_field("authContextRefs", "invalid_acr", [MISSING], "PUT", path, base)
        self.check_field("grantTypes", "unsupported_grant_type", [MISSING], "PUT", path, base)
        self.check_field("clientAuthMethods", "invalid_client_auth", [MISSING], "PUT", path, base)
        self.check_field("additionalConfig", "invalid_additional_config", [{"a": 1}], "PUT", path,
                         base)
        # Nothing changed.
        self.assertEqual(self.get(cid)["clientName"], "Test RP")

    def test_inactive_status(self):
        cid = self.create()["clientId"]
        self.assertEqual(self.api.ok("PUT", "/client/" + cid, update_request(status="INACTIVE")),
                         {"clientId": cid, "status": "INACTIVE"})
        self.assertEqual(self.get(cid)["status"], "INACTIVE")
        self.assertEqual(self.api.ok("PATCH", "/client/" + cid, {"status": "ACTIVE"}),
                         {"clientId": cid, "status": "ACTIVE"})
        self.assertEqual(self.get(cid)["status"], "ACTIVE")

    def test_patch(self):
        request = self.create()
        cid = request["clientId"]
        path = "/client/" + cid
        # Only what is given changes.
        self.api.ok("PATCH", path, {"logoUri": "https://rp.example/new.png"})
        shown = self.get(cid)
        self.assertEqual(shown["logoUri"], "https://rp.example/new.png")
        self.assertEqual(shown["clientName"], "Test RP")
        self.assertEqual(shown["clientNameLangMap"], request["clientNameLangMap"])
        self.assertEqual(shown["additionalConfig"], request["additionalConfig"])
        # The name keeps its translations, and the other way round.
        self.api.ok("PATCH", path, {"clientName": "Patched"})
        shown = self.get(cid)
        self.assertEqual(shown["clientName"], "Patched")
        self.assertEqual(shown["clientNameLangMap"], request["clientNameLangMap"])
        self.api.ok("PATCH", path, {"clientNameLangMap": {"deu": "Gepatcht"}})
        shown = self.get(cid)
        self.assertEqual(shown["clientName"], "Patched")
        self.assertEqual(shown["clientNameLangMap"], {"deu": "Gepatcht"})
        self.api.ok("PATCH", path, {"additionalConfig": {"dpop_bound_access_tokens": False},
                                    "redirectUris": ["https://rp.example/p"],
                                    "userClaims": ["email"], "authContextRefs": [ACR_PWD]})
        shown = self.get(cid)
        self.assertEqual(shown["additionalConfig"], {"dpop_bound_access_tokens": False})
        self.assertEqual(shown["redirectUris"], ["https://rp.example/p"])
        self.assertEqual(shown["userClaims"], ["email"])
        self.assertEqual(shown["authContextRefs"], [ACR_PWD])
        # An empty patch is valid and changes nothing but the update time.
        self.api.ok("PATCH", path, {})
        self.assertEqual(self.get(cid)["redirectUris"], ["https://rp.example/p"])
        # Lists given must not be empty; each rule applies.
        for field, value, code in [("redirectUris", [], "invalid_redirect_uri"),
                                   ("userClaims", [], "invalid_claim"),
                                   ("authContextRefs", [], "invalid_acr"),
                                   ("grantTypes", [], "unsupported_grant_type"),
                                   ("clientAuthMethods", [], "invalid_client_auth"),
                                   ("status", "GONE", "invalid_status"),
                                   ("clientName", "", "invalid_client_name"),
                                   ("logoUri", "x", "invalid_uri"),
                                   ("additionalConfig", {"consent_expire_in_mins": 1},
                                    "invalid_additional_config"),
                                   ("encPublicKey", {"kty": "RSA"}, "invalid_public_key")]:
            self.assertEqual(self.api.errors("PATCH", path, {field: value}), [code], field)
        # The public key cannot be patched.
        self.api.ok("PATCH", path, {"publicKey": rsa_jwk()})
        self.assertEqual(self.get(cid)["publicKey"]["n"], request["publicKey"]["n"])
        self.assertEqual(self.api.errors("PATCH", "/client/" + new_id(), {"status": "ACTIVE"}),
                         ["invalid_client_id"])

    def test_patch_encryption_key(self):
        request = self.create()
        cid = request["clientId"]
        path = "/client/" + cid
        enc = dict(rsa_jwk(), kid="enc-1", use="enc", alg="RSA-OAEP-256")
        self.api.ok("PATCH", path, {"encPublicKey": enc})
        shown = self.get(cid)
        self.assertEqual(shown["encPublicKey"]["n"], enc["n"])
        self.assertEqual(shown["encPublicKey"]["kid"], "enc-1")
        # A PUT keeps it.
        self.api.ok("PUT", path, update_request())
        self.assertEqual(self.get(cid)["encPublicKey"]["n"], enc["n"])
        bad = [ec_jwk(), dict(rsa_jwk(), use="sig"), dict(rsa_jwk(), alg="RSA-OAEP"),
               dict(rsa_jwk(), alg="RS256"), rsa_jwk(1024), dict(enc, d=enc["n"]),
               dict(request["publicKey"])]  # the signing key itself
        for key in bad:
            self.assertEqual(self.api.errors("PATCH", path, {"encPublicKey": key}),
                             ["invalid_public_key"])
        self.assertEqual(self.get(cid)["encPublicKey"]["n"], enc["n"])
        # v3 create accepts it too.
        enc2 = rsa_jwk()
        cid2 = self.create(encPublicKey=enc2)["clientId"]
        self.assertEqual(self.get(cid2)["encPublicKey"]["n"], enc2["n"])

    def test_encrypted_userinfo_needs_a_key(self):
        jwe = {"userinfo_response_type": "JWE"}
        # Create without an encryption key is refused; with one it is accepted.
        self.assertEqual(self.api.errors("POST", "/client", create_request(
            key=self.fresh_key(), additionalConfig=jwe)), ["invalid_public_key"])
        cid = self.create(additionalConfig=jwe, encPublicKey=rsa_jwk())["clientId"]
        self.assertEqual(self.get(cid)["additionalConfig"], jwe)
        # A client without a key cannot be switched to JWE by PATCH or PUT.
        plain = self.create()["clientId"]
        self.assertEqual(self.api.errors("PATCH", "/client/" + plain,
                                         {"additionalConfig": jwe}), ["invalid_public_key"])
        self.assertEqual(self.api.errors("PUT", "/client/" + plain,
                                         update_request(additionalConfig=jwe)),
                         ["invalid_public_key"])
        self.assertEqual(self.get(plain)["additionalConfig"]["userinfo_response_type"], "JWS")

    # -- v1 and v2 -----------------------------------------------------------------------------

    def test_v2_oauth_client(self):
        request = create_request(key=self.fresh_key())
        self.assertEqual(self.api.ok("POST", "/oauth-client", request),
                         {"clientId": request["clientId"], "status": "ACTIVE"})
        shown = self.get(request["clientId"])
        self.assertEqual(shown["clientNameLangMap"], request["clientNameLangMap"])
        # v2 has no additionalConfig: it is ignored.
        self.assertEqual(shown["additionalConfig"], {})
        self.assertEqual(self.api.errors("POST", "/oauth-client",
                                         create_request(key=rsa_jwk(),
                                                        clientNameLangMap={"en": "x"})),
                         ["invalid_language_code"])
        # PUT v2 updates the name map and keeps additionalConfig set through v3.
        cid = request["clientId"]
        self.api.ok("PATCH", "/client/" + cid, {"additionalConfig": {"require_pkce": True}})
        self.api.ok("PUT", "/oauth-client/" + cid, update_request(additionalConfig={"x": 1}))
        shown = self.get(cid)
        self.assertEqual(shown["clientNameLangMap"], {"fra": "RP renomme"})
        self.assertEqual(shown["additionalConfig"], {"require_pkce": True})
        self.assertEqual(self.api.errors("PUT", "/oauth-client/" + cid,
                                         update_request(status="NO")), ["invalid_status"])

    def test_v1_oidc_client(self):
        request = create_request(key=self.fresh_key())
        self.assertEqual(self.api.ok("POST", "/oidc-client", request),
                         {"clientId": request["clientId"], "status": "ACTIVE"})
        shown = self.get(request["clientId"])
        # v1 has neither a name map nor additionalConfig.
        self.assertEqual(shown["clientNameLangMap"], {})
        self.assertEqual(shown["additionalConfig"], {})
        self.assertEqual(self.api.errors("POST", "/oidc-client",
                                         create_request(key=rsa_jwk(), clientNameLangMap={"e": 1},
                                                        grantTypes=["implicit"])),
                         ["unsupported_grant_type"])
        cid = request["clientId"]
        self.api.ok("PATCH", "/client/" + cid, {"clientNameLangMap": {"fra": "x"}})
        self.api.ok("PUT", "/oidc-client/" + cid, update_request(status="INACTIVE"))
        shown = self.get(cid)
        self.assertEqual(shown["clientName"], "Renamed RP")
        self.assertEqual(shown["clientNameLangMap"], {})
        self.assertEqual(shown["status"], "INACTIVE")

    def test_methods_and_paths(self):
        for method, path in [("DELETE", "/client/x"), ("PATCH", "/oidc-client/x"),
                             ("GET", "/oauth-client/x"), ("PATCH", "/oauth-client/x"),
                             ("GET", "/client")]:
            status, headers, _ = self.api.call(method, path)
            self.assertEqual(status, 405, (method, path))
            self.assertIn("allow", headers)
        status, _, _ = self.api.call("GET", "/client/a%2Fb")
        self.assertEqual(status, 400)
        self.assertEqual(self.api.errors("GET", "/client/a%20b"), ["invalid_client_id"])
        self.assertEqual(self.api.errors("GET", "/client/" + new_id()), ["invalid_client_id"])


class Wildcards(unittest.TestCase):
    """eSignet's wildcard redirect URIs, when the deployment enables them."""

    def test_wildcards_in_the_path_only(self):
        with Server(extra_config=oidc_config(wildcards=True)) as srv:
            api = Api(srv)
            request = create_request(key=rsa_jwk(), redirectUris=[
                "https://rp.example/*", "https://rp.example/app/**", "http://localhost:3000/**"])
            api.ok("POST", "/client", request)
            for uri in ["https://*.rp.example/cb", "https://rp.example*/cb", "http*://rp.example/",
                        "http://rp.example/*"]:
                self.assertEqual(api.errors("POST", "/client",
                                            create_request(key=rsa_jwk(), redirectUris=[uri])),
                                 ["invalid_redirect_uri"], uri)


class CommandLineTool(unittest.TestCase):
    """tools/esignet-client against a real server, with a curl wrapper that records the command
    lines it was given, to show that the admin token never appears in one."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_config=oidc_config()).start()
        cls.api = Api(cls.srv)
        cls.tmp = tempfile.mkdtemp(prefix="esignet-cli-")
        cls.argv_log = os.path.join(cls.tmp, "argv.log")
        wrapper = os.path.join(cls.tmp, "curl")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nprintf "%%s\\n" "$*" >> "%s"\nexec %s "$@"\n'
                    % (cls.argv_log, shutil.which("curl")))
        os.chmod(wrapper, stat.S_IRWXU)
        cls.jwk = os.path.join(cls.tmp, "client.jwk")
        with open(cls.jwk, "w") as f:
            json.dump(rsa_jwk(), f, indent=2)
        cls.enc = os.path.join(cls.tmp, "enc.jwk")
        with open(cls.enc, "w") as f:
            json.dump(rsa_jwk(), f)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_cli(self, args, token=ADMIN_TOKEN):
        env = dict(os.environ)
        env["PATH"] = self.tmp + os.pathsep + env.get("PATH", "")
        env.pop("ESIGNET_ADMIN_TOKEN", None)
        if token is not None:
            env["ESIGNET_ADMIN_TOKEN"] = token
        p = subprocess.run(["sh", CLI] + args, env=env, capture_output=True, text=True,
                           timeout=60)
        return p.returncode, p.stdout, p.stderr

    def server_args(self):
        return ["--server", "http://127.0.0.1:%d" % self.srv.port]

    def test_register_update_show(self):
        cid = new_id("cli") + "?#%"
        rc, out, err = self.run_cli(["register"] + self.server_args() + [
            "--client-id", cid, "--name", 'Demo "RP" \\ one', "--name-lang", "fra=D\u00e9mo",
            "--jwk", self.jwk, "--redirect-uri", "https://rp.example/cb",
            "--redirect-uri", "io.mosip.residentapp://oauth", "--claim", "name",
            "--claim", "email", "--acr", ACR_OTP, "--logo", "https://rp.example/l.png",
            "--enc-jwk", self.enc,
            "--additional-config", '{"require_pkce": true, "consent_expire_in_mins": 15}'])
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["response"], {"clientId": cid, "status": "ACTIVE"})
        shown = self.api.ok("GET", "/client/" + urlquote(cid))
        self.assertEqual(shown["clientName"], 'Demo "RP" \\ one')
        self.assertEqual(shown["clientNameLangMap"], {"fra": "D\u00e9mo"})
        self.assertEqual(shown["redirectUris"], ["https://rp.example/cb",
                                                 "io.mosip.residentapp://oauth"])
        self.assertEqual(shown["userClaims"], ["name", "email"])
        self.assertEqual(shown["additionalConfig"],
                         {"require_pkce": True, "consent_expire_in_mins": 15})
        with open(self.jwk) as f:
            self.assertEqual(shown["publicKey"]["n"], json.load(f)["n"])
        self.assertIn("encPublicKey", shown)

        rc, out, err = self.run_cli(["update"] + self.server_args() + [
            "--client-id", cid, "--status", "INACTIVE", "--redirect-uri", "https://rp.example/x"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["response"]["status"], "INACTIVE")
        rc, out, err = self.run_cli(["show"] + self.server_args() + ["--client-id", cid])
        self.assertEqual(rc, 0, err)
        shown = json.loads(out)["response"]
        self.assertEqual(shown["status"], "INACTIVE")
        self.assertEqual(shown["redirectUris"], ["https://rp.example/x"])
        self.assertEqual(shown["clientName"], 'Demo "RP" \\ one')

        # The token went to curl on its standard input only.
        with open(self.argv_log) as f:
            argv = f.read()
        self.assertIn(cid.split("?")[0], argv)
        self.assertNotIn(ADMIN_TOKEN, argv)

    def test_errors_exit_non_zero(self):
        # The server's refusal is printed, and the exit status says so.
        rc, out, err = self.run_cli(["register"] + self.server_args() + [
            "--client-id", new_id("cli"), "--name", "x", "--jwk", self.jwk,
            "--redirect-uri", "http://rp.example/cb", "--acr", ACR_OTP,
            "--logo", "https://rp.example/l.png"])
        self.assertEqual(rc, 1)
        self.assertIn("invalid_redirect_uri", out)
        rc, out, err = self.run_cli(["show"] + self.server_args() + ["--client-id", "nobody"],
                                    token="wrong-token")
        self.assertEqual(rc, 1)
        self.assertIn("invalid_token", out)
        self.assertIn("401", err)
        rc, out, err = self.run_cli(["show"] + self.server_args() + ["--client-id", new_id()])
        self.assertEqual(rc, 1)
        self.assertIn("invalid_client_id", out)
        # Usage errors: no token, a private key, no server, unknown options, control characters.
        private = os.path.join(self.tmp, "private.jwk")
        with open(private, "w") as f:
            json.dump(dict(rsa_jwk(), d="AAAA"), f)
        for args, token in [(["show", "--client-id", "x"], None),
                            (["register", "--client-id", "x", "--jwk", private], ADMIN_TOKEN),
                            (["register", "--client-id", "x"], ADMIN_TOKEN),
                            (["update", "--client-id", "x"], ADMIN_TOKEN),
                            (["show", "--client-id", "x", "--bogus", "1"], ADMIN_TOKEN),
                            (["show", "--client-id", "x\ny"], ADMIN_TOKEN),
                            (["show", "--client-id", "x"], "bad token")]:
            rc, out, err = self.run_cli(args[:1] + self.server_args() + args[1:], token=token)
            self.assertEqual(rc, 2, (args, out, err))
            self.assertTrue(err)
        rc, _, err = self.run_cli(["show", "--server", "http://127.0.0.1:9", "--client-id", "x"])
        self.assertEqual(rc, 2, err)


if __name__ == "__main__":
    unittest.main()
