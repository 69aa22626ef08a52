"""The login and error pages (issue 4): the language each page is served in (ui_locales, then
Accept-Language with q-values, then English), <html lang dir> and the translated texts, the
translation files served to the script with the same keys in every language, the language
switcher, and the page hardening: a strict Content-Security-Policy on every page, no inline
script or style, labelled controls."""
import html.parser
import json
import os
import re
import secrets
import unittest
import urllib.parse

from harness import SOURCE_DIR
from oidc_helpers import ACR_OTP, Browser, OidcServer, full_login, pkce
from test_oidc_features import ServerTest

UI_DIR = os.path.join(SOURCE_DIR, "core", "oidc", "ui")
LANGS = sorted(f[:-5] for f in os.listdir(os.path.join(UI_DIR, "i18n")) if f.endswith(".json"))


class Page(html.parser.HTMLParser):
    """What the tests look at in a page: <html> attributes, scripts, style attributes, ids,
    labels and controls, translated elements and their text."""

    VOID = {"meta", "link", "input", "img", "br", "hr"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.html = {}
        self.scripts = []   # [attrs, content]
        self.styles = 0     # <style> elements
        self.style_attrs = []
        self.ids = {}
        self.labels_for = set()
        self.controls = []  # (tag, attrs)
        self.i18n = []      # [key, attrs, text]
        self.title = ""
        self._open = []     # stack of [tag, attrs, text parts, i18n record or None]
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html = a
        if "style" in a:
            self.style_attrs.append((tag, a))
        if "id" in a:
            self.ids[a["id"]] = (tag, a)
        if tag == "label" and "for" in a:
            self.labels_for.add(a["for"])
        if tag in ("input", "select", "textarea"):
            self.controls.append((tag, a))
        if tag == "style":
            self.styles += 1
        rec = None
        if "data-i18n" in a:
            rec = [a["data-i18n"], a, ""]
            self.i18n.append(rec)
        if tag == "script":
            self.scripts.append([a, ""])
        if tag not in self.VOID:
            self._open.append([tag, a, rec])

    def handle_endtag(self, tag):
        while self._open:
            t = self._open.pop()
            if t[0] == tag:
                break

    def handle_data(self, data):
        for t in self._open:
            if t[2] is not None:
                t[2][2] += data
        if self._open and self._open[-1][0] == "script":
            self.scripts[-1][1] += data
        if self._open and self._open[-1][0] == "title":
            self.title += data

    def text_of(self, element_id):
        for key, attrs, text in self.i18n:
            if attrs.get("id") == element_id:
                return text
        raise AssertionError("no translated element #%s" % element_id)


def csp_directives(header):
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


STRICT_IMG_SRC = {"'self'", "data:", "https:"}
LOOPBACK_IMG_SRC = {"http://127.0.0.1:*", "http://localhost:*"}


class Pages(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.texts = {}
        for lang in LANGS:
            status, h, body = cls.srv.request("GET", "/static/i18n/%s.json" % lang)
            cls.texts[lang] = json.loads(body) if status == 200 else {}

    # -- helpers ---------------------------------------------------------------------------------

    def login_page(self, accept_language=None, **params):
        """GET /authorize for the test client; returns (headers, Page, login context)."""
        verifier, challenge = pkce()
        query = {"client_id": self.client.client_id, "redirect_uri": self.client.redirect_uri,
                 "response_type": "code", "scope": "openid profile email",
                 "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(12),
                 "acr_values": ACR_OTP, "code_challenge": challenge,
                 "code_challenge_method": "S256"}
        query.update(params)
        headers = {"Accept-Language": accept_language} if accept_language is not None else {}
        status, h, body = Browser(self.srv).request(
            "GET", "/authorize?" + urllib.parse.urlencode(query), headers=headers)
        self.assertEqual(status, 200, body[:300])
        return h, Page(body.decode()), Browser.page_details(body)[1]

    def error_page(self, query=None, accept_language=None, status=400, method="GET", form=None):
        """An /authorize error page; `query` is a dict or a raw query string."""
        if query is None:
            query = {"client_id": "nobody", "redirect_uri": "https://evil.example/cb",
                     "response_type": "code", "scope": "openid"}
        if isinstance(query, dict):
            query = urllib.parse.urlencode(query)
        headers = {}
        if accept_language is not None:
            headers["Accept-Language"] = accept_language
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        path = "/authorize" + ("?" + query if query else "")
        got, h, data = self.srv.request(method, path, body=body, headers=headers)
        self.assertEqual(got, status, data[:300])
        self.assertNotIn("location", h)
        self.assertTrue(h["content-type"].startswith("text/html"), h["content-type"])
        return h, Page(data.decode())

    def assertLanguage(self, h, page, lang):
        self.assertEqual(page.html.get("lang"), lang)
        self.assertEqual(page.html.get("dir"), self.texts[lang]["meta.dir"])
        self.assertEqual(h.get("content-language"), lang)

    def assertTranslated(self, page, lang):
        """Every translated element shows its key's text in `lang`, placeholders filled."""
        self.assertTrue(page.i18n)
        for key, attrs, text in page.i18n:
            self.assertIn(key, self.texts[lang], key)
            expected = self.texts[lang][key]
            args = json.loads(attrs.get("data-i18n-args", "{}"))
            for name, value in args.items():
                expected = expected.replace("{%s}" % name, value)
            self.assertEqual(text, expected, key)
        self.assertNotRegex(page.title, r"^\s*$")

    def assertHardened(self, h, page):
        """Strict CSP; scripts only from this server (versioned), JSON data blocks only inline;
        no style element or attribute; every control labelled."""
        csp = csp_directives(h["content-security-policy"])
        self.assertEqual(csp.get("default-src"), ["'none'"])
        self.assertEqual(csp.get("script-src"), ["'self'"])
        self.assertEqual(csp.get("style-src"), ["'self'"])
        self.assertEqual(csp.get("connect-src"), ["'self'"])
        self.assertEqual(csp.get("form-action"), ["'none'"])
        self.assertEqual(csp.get("frame-ancestors"), ["'none'"])
        self.assertEqual(csp.get("base-uri"), ["'none'"])
        # This server's issuer is http://127.0.0.1 (development): logos may also come from
        # http on loopback, where a relying party under development serves them.
        self.assertEqual(set(csp.get("img-src")), STRICT_IMG_SRC | LOOPBACK_IMG_SRC)
        self.assertNotIn("unsafe", h["content-security-policy"])
        self.assertEqual(h.get("x-content-type-options"), "nosniff")
        for attrs, content in page.scripts:
            if "src" in attrs:
                self.assertRegex(attrs["src"], r"^/static/[a-z0-9]+\.js\?v=[0-9a-f]{16}$")
                self.assertEqual(content.strip(), "")
            else:
                self.assertEqual(attrs.get("type"), "application/json", attrs)
                json.loads(content)
        self.assertEqual(page.styles, 0)
        self.assertEqual(page.style_attrs, [])
        for tag, attrs in page.controls:
            if attrs.get("type") == "hidden":
                continue
            self.assertIn(attrs.get("id"), page.labels_for, (tag, attrs))

    # -- language choice -------------------------------------------------------------------------

    def test_loopback_logos_only_on_a_development_server(self):
        h, page, ctx = self.login_page()
        self.assertIs(ctx["loopbackLogos"], True)
        # A server with a public issuer allows logos from https and data: only.
        srv = OidcServer()
        with open(srv.config_path) as f:
            text = f.read()
        with open(srv.config_path, "w") as f:
            f.write(text.replace("issuer: http://127.0.0.1:8088", "issuer: https://id.example.test"))
        srv.start()
        try:
            status, h, _ = srv.request("GET", "/authorize?client_id=nobody")
            self.assertEqual(status, 400)
            csp = csp_directives(h["content-security-policy"])
            self.assertEqual(set(csp.get("img-src")), STRICT_IMG_SRC)
        finally:
            srv.stop()

    def test_language_choice_order(self):
        cases = [
            # (ui_locales, Accept-Language, expected)
            (None, None, "en"),
            ("ar", None, "ar"),
            ("ar-EG", None, "ar"),
            ("fr ar en", None, "ar"),          # the first supported one wins
            ("fr de-CH EN-gb ar", None, "en"),  # matched on the primary subtag, any case
            ("en", "ar", "en"),                # ui_locales beats Accept-Language
            ("fr", "ar", "ar"),                # ... unless none of them is supported
            (None, "ar", "ar"),
            (None, "AR-sa,en;q=0.5", "ar"),
            (None, "fr-CH, fr;q=0.9, ar;q=0.8, en;q=0.7", "ar"),
            (None, "en;q=0.5, ar;q=0.9", "ar"),  # q-values, not order
            (None, "en;q=0.9, ar;q=0.9", "en"),  # equal: the first
            (None, "ar;q=0, en;q=0.1", "en"),  # q=0: not this one
            (None, "ar;q=0", "en"),
            (None, "ar;q=0.000", "en"),
            (None, "ar;q=1.5, en;q=0.2", "en"),  # malformed weight: the item is ignored
            (None, "de, fr;q=0.8", "en"),      # nothing supported: English
            (None, "*", "en"),
            (None, "", "en"),
        ]
        for ui_locales, accept, lang in cases:
            with self.subTest(ui_locales=ui_locales, accept_language=accept):
                params = {"ui_locales": ui_locales} if ui_locales is not None else {}
                h, page, ctx = self.login_page(accept_language=accept, **params)
                self.assertLanguage(h, page, lang)
                self.assertEqual(ctx["lang"], lang)
                # The error page chooses the same way.
                query = {"client_id": "nobody", "redirect_uri": "https://evil.example/cb"}
                query.update(params)
                h, page = self.error_page(query, accept_language=accept)
                self.assertLanguage(h, page, lang)

    # -- the login page --------------------------------------------------------------------------

    def test_login_page_in_each_language(self):
        for lang in LANGS:
            with self.subTest(lang=lang):
                h, page, ctx = self.login_page(ui_locales=lang)
                self.assertLanguage(h, page, lang)
                self.assertTranslated(page, lang)
                self.assertHardened(h, page)
                self.assertEqual(page.text_of("title"), self.texts[lang]["page.sign_in"])
                self.assertEqual(page.title, self.texts[lang]["page.sign_in"])
                self.assertEqual(h.get("cache-control"), "no-store")
                # The script's places: status (polite), error (assertive).
                self.assertEqual(page.ids["status"][1].get("role"), "status")
                self.assertEqual(page.ids["error"][1].get("role"), "alert")
                # The switcher: hidden until the script runs it, every language by its own name,
                # the page's language selected, each option with its file.
                box = page.ids["lang"][1]
                self.assertIn("hidden", box)
                self.assertEqual(page.ids["lang-switch"][0], "select")
                self.assertIn("lang-switch", page.labels_for)

    def test_switcher_options(self):
        status, _, body = Browser(self.srv).request("GET", "/authorize?" + urllib.parse.urlencode(
            {"client_id": "nobody", "ui_locales": "ar"}))
        options = re.findall(r"<option ([^>]*)>([^<]*)</option>", body.decode())
        self.assertEqual(sorted(re.search(r'value="([^"]+)"', a).group(1) for a, _ in options),
                         LANGS)
        for attrs, name in options:
            lang = re.search(r'value="([^"]+)"', attrs).group(1)
            self.assertEqual(name, self.texts[lang]["meta.name"])
            self.assertIn('lang="%s"' % lang, attrs)
            self.assertIn('dir="%s"' % self.texts[lang]["meta.dir"], attrs)
            self.assertEqual(" selected" in attrs, lang == "ar", attrs)
            href = re.search(r'data-href="([^"]+)"', attrs).group(1)
            status, h, data = self.srv.request("GET", href)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(data), self.texts[lang])

    def test_login_page_preloads_its_texts_and_versions_its_files(self):
        h, page, ctx = self.login_page(ui_locales="ar")
        # The script fetches the page language's texts at once: the page asks for them early,
        # at the URL the switcher names.
        preload = re.search(r'<link rel="preload" as="fetch" crossorigin href="([^"]+)">',
                            Browser(self.srv).request("GET", "/authorize?" + urllib.parse.urlencode(
                                {"client_id": self.client.client_id,
                                 "redirect_uri": self.client.redirect_uri, "response_type": "code",
                                 "scope": "openid", "code_challenge": pkce()[1],
                                 "code_challenge_method": "S256", "ui_locales": "ar"}))[2].decode())
        self.assertRegex(preload.group(1), r"^/static/i18n/ar\.json\?v=[0-9a-f]{16}$")
        status, h, _ = self.srv.request("GET", preload.group(1))
        self.assertEqual((status, h["cache-control"]), (200, "public, max-age=31536000"))
        text = Browser(self.srv).request("GET", "/authorize?" + urllib.parse.urlencode({
            "client_id": "nobody"}))[2].decode()
        self.assertRegex(text, r'<link rel="stylesheet" href="/static/login\.css\?v=[0-9a-f]{16}">')
        srcs = [a["src"] for a, _ in page.scripts if "src" in a]
        self.assertEqual([s.split("?")[0] for s in srcs], ["/static/i18n.js", "/static/login.js"])
        for src in srcs:
            status, h, _ = self.srv.request("GET", src)
            self.assertEqual(status, 200)
            self.assertEqual(h["cache-control"], "public, max-age=31536000")

    def test_consent_step_is_served_in_the_chosen_language(self):
        # A browser with a session: the page opens at the consent step (prompt=consent).
        browser = full_login(self.srv, self.client)[4]
        verifier, challenge = pkce()
        status, h, body = browser.authorize(self.client, code_challenge=challenge,
                                            code_challenge_method="S256", prompt="consent",
                                            ui_locales="ar")
        self.assertEqual(status, 200, body[:300])
        page = Page(body.decode())
        ctx = Browser.page_details(body)[1]
        self.assertEqual((ctx["step"], ctx["lang"]), ("consent", "ar"))
        self.assertEqual(page.html["dir"], "rtl")
        self.assertEqual(page.text_of("title"), self.texts["ar"]["page.consent"])

    # -- error pages -----------------------------------------------------------------------------

    def test_error_pages_say_what_happened_and_what_to_do_translated(self):
        bad_redirect = {"client_id": self.client.client_id,
                        "redirect_uri": "https://evil.example/cb", "response_type": "code",
                        "scope": "openid"}
        cases = [
            ("client", "invalid_client_id", {"client_id": "nobody",
                                             "redirect_uri": "https://rp.example/cb"}),
            ("client", "invalid_client_id", {"redirect_uri": "https://rp.example/cb"}),
            ("redirect_uri", "invalid_redirect_uri", bad_redirect),
            ("redirect_uri", "invalid_redirect_uri", {"client_id": self.client.client_id}),
        ]
        for lang in LANGS:
            for problem, code, query in cases:
                with self.subTest(lang=lang, problem=problem, query=query):
                    h, page = self.error_page(dict(query, ui_locales=lang))
                    self.assertLanguage(h, page, lang)
                    self.assertTranslated(page, lang)
                    self.assertHardened(h, page)
                    t = self.texts[lang]
                    prefix = "errorpage.%s." % problem
                    self.assertEqual(page.title, t[prefix + "title"])
                    self.assertEqual(page.text_of("title"), t[prefix + "title"])
                    self.assertEqual(page.text_of("error-message"), t[prefix + "message"])
                    self.assertEqual(page.text_of("error-action"), t[prefix + "action"])
                    self.assertEqual(page.text_of("error-code"),
                                     t["errorpage.code"].replace("{code}", code))
        # The English and Arabic pages differ in every text.
        en = self.error_page({"client_id": "nobody", "ui_locales": "en"})[1]
        ar = self.error_page({"client_id": "nobody", "ui_locales": "ar"})[1]
        for i in ("title", "error-message", "error-action"):
            self.assertNotEqual(en.text_of(i), ar.text_of(i))
        self.assertRegex(ar.text_of("error-action"), "[\u0600-\u06ff]")

    def test_malformed_request_error_page_still_finds_the_language(self):
        # A repeated parameter makes the request unusable, but not its ui_locales.
        h, page = self.error_page("client_id=a&client_id=b&ui_locales=ar")
        self.assertLanguage(h, page, "ar")
        self.assertEqual(page.text_of("title"), self.texts["ar"]["errorpage.request.title"])
        self.assertIn("invalid_request", page.text_of("error-code"))
        h, page = self.error_page("client_id=%zz&ui_locales=fr+ar", accept_language="en")
        self.assertLanguage(h, page, "ar")
        h, page = self.error_page("client_id=a&client_id=b", accept_language="ar;q=0.5, en;q=0.4")
        self.assertLanguage(h, page, "ar")
        # POST /authorize: the form body's ui_locales.
        h, page = self.error_page("", method="POST", form={"client_id": "nobody",
                                                           "ui_locales": "ar"})
        self.assertLanguage(h, page, "ar")
        self.assertEqual(page.text_of("title"), self.texts["ar"]["errorpage.client.title"])

    def test_error_pages_have_the_switcher_without_repeating_the_request(self):
        h, page = self.error_page({"client_id": "nobody", "ui_locales": "ar"})
        self.assertIn("hidden", page.ids["lang"][1])
        self.assertEqual(page.ids["lang-switch"][0], "select")
        # No link back to /authorize: the switcher re-renders in place.
        srcs = [a["src"] for a, _ in page.scripts if "src" in a]
        self.assertEqual([s.split("?")[0] for s in srcs], ["/static/i18n.js"])

    # -- translation files -----------------------------------------------------------------------

    def test_translation_files_have_the_same_keys(self):
        self.assertIn("en", LANGS)
        self.assertIn("ar", LANGS)
        reference = self.texts["en"]
        for lang in LANGS:
            with self.subTest(lang=lang):
                t = self.texts[lang]
                self.assertEqual(sorted(set(reference) - set(t)), [], "missing in %s" % lang)
                self.assertEqual(sorted(set(t) - set(reference)), [], "not in en: %s" % lang)
                for key, value in t.items():
                    self.assertIsInstance(value, str, key)
                    self.assertTrue(value.strip(), key)
                    # The same placeholders in every language.
                    self.assertEqual(sorted(re.findall(r"\{\w+\}", value)),
                                     sorted(re.findall(r"\{\w+\}", reference[key])), key)
                self.assertIn(t["meta.dir"], ("ltr", "rtl"))
        self.assertEqual(self.texts["ar"]["meta.dir"], "rtl")
        # Arabic texts are Arabic (the translation is not a copy of English).
        same = [k for k in reference if not k.startswith("meta.") and
                self.texts["ar"][k] == reference[k] and re.search("[A-Za-z]{3}", reference[k])
                and reference[k] != "{message} ({code})"]
        self.assertEqual(same, [])

    def test_translation_files_are_served(self):
        for lang in LANGS:
            path = "/static/i18n/%s.json" % lang
            status, h, body = self.srv.request("GET", path)
            self.assertEqual(status, 200)
            self.assertEqual(h["content-type"], "application/json")
            self.assertEqual(h.get("x-content-type-options"), "nosniff")
            with open(os.path.join(UI_DIR, "i18n", lang + ".json"), "rb") as f:
                self.assertEqual(body, f.read())
            # Unversioned: cached briefly; HEAD answers the same head.
            self.assertEqual(h["cache-control"], "public, max-age=300")
            status, hh, body = self.srv.request("HEAD", path)
            self.assertEqual((status, body), (200, b""))
            self.assertEqual(hh["content-length"], h["content-length"])
            # Another version's URL is not cached for long.
            status, h, _ = self.srv.request("GET", path + "?v=0000000000000000")
            self.assertEqual((status, h["cache-control"]), (200, "public, max-age=300"))
        for path in ("/static/i18n/xx.json", "/static/i18n/fr.json", "/static/i18n/en",
                     "/static/i18n/EN.json", "/static/i18n/login.js", "/static/nope.js",
                     "/static/en.json", "/static/i18n/en.json.bak"):
            status, h, _ = self.srv.request("GET", path)
            self.assertEqual(status, 404, path)
        for path, ctype in (("/static/login.js", "text/javascript; charset=utf-8"),
                            ("/static/i18n.js", "text/javascript; charset=utf-8"),
                            ("/static/login.css", "text/css; charset=utf-8")):
            status, h, _ = self.srv.request("GET", path)
            self.assertEqual((status, h["content-type"]), (200, ctype), path)

    def test_every_text_the_scripts_use_is_translated(self):
        keys = set(self.texts["en"])
        prefixes = ("page.", "otp.", "login.", "consent.", "kbi.", "factor.", "error.",
                    "client.", "list.", "lang.", "claim.", "scope.")
        for name in ("login.js", "i18n.js"):
            with open(os.path.join(UI_DIR, name), encoding="utf-8") as f:
                script = f.read()
            used = set(m for m in re.findall(r"'([a-z0-9_]+\.[A-Za-z0-9_.-]+)'", script)
                       if m.startswith(prefixes))
            self.assertEqual(sorted(used - keys), [], name)
        with open(os.path.join(UI_DIR, "login.js"), encoding="utf-8") as f:
            script = f.read()
        # Texts named from data: the factors, the knowledge questions' defaults, auth_failed per
        # factor.
        for factor in re.search(r"const FACTORS = \[([^\]]*)\]", script).group(1).split(","):
            factor = factor.strip().strip("'")
            self.assertIn("factor." + factor, keys)
            self.assertIn("error.auth_failed_" + factor.lower(), keys)
        for field in re.findall(r"\{ id: '([a-z_]+)', type:", script):
            self.assertIn("kbi." + field, keys)
        # Every eSignet error code the browser APIs answer (docs/API.md) has a message.
        codes = ["invalid_transaction", "invalid_identifier", "invalid_otp_channel",
                 "no_email_mobile_found", "invalid_individual_id", "otp_expired",
                 "invalid_no_of_challenges", "invalid_auth_factor_type",
                 "invalid_challenge_format", "invalid_challenge", "auth_factor_mismatch",
                 "auth_failed", "no_attempts_left", "individual_id_blocked",
                 "invalid_accepted_claim", "invalid_permitted_scope", "invalid_client_id",
                 "invalid_csrf_token", "invalid_request", "send_otp_failed", "unknown_error",
                 "too_many_requests", "service_unavailable", "request_timeout",
                 "invalid_auth_challenge", "data_exchange_failed", "network_error"]
        self.assertEqual([c for c in codes if "error." + c not in keys], [])
        # The standard claims (OpenID Connect Core §5.1) in words.
        for claim in ("sub", "name", "given_name", "family_name", "middle_name", "nickname",
                      "preferred_username", "profile", "picture", "website", "email",
                      "email_verified", "gender", "birthdate", "zoneinfo", "locale",
                      "phone_number", "phone_number_verified", "address", "updated_at"):
            self.assertIn("claim." + claim, keys)

    def test_no_inline_style_from_the_scripts(self):
        # CSP style-src 'self' blocks style attributes too: the scripts never set one.
        for name in ("login.js", "i18n.js"):
            with open(os.path.join(UI_DIR, name), encoding="utf-8") as f:
                script = f.read()
            self.assertNotRegex(script, r"\.style\b|'style'|innerHTML|outerHTML|insertAdjacentHTML"
                                        r"|document\.write|\beval\(|new Function", name)


if __name__ == "__main__":
    unittest.main()
