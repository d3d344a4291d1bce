"""The Security info page in a real browser: headless Chromium (Selenium) against a real otpd.

Run by CTest (tests/browser/CMakeLists.txt), or by hand:
  OTPD=build/test/tools/otpd OTPCTL=build/test/tools/otpctl ARTIFACTS=/tmp/shots \
    /usr/bin/python3 tests/browser/selfservice_test.py -v
Without Chromium, chromedriver or python3-selenium the tests are skipped, except under CI=true,
where they fail: CI must run them. Passwords, passes, codes, seeds and cookies are never printed.
"""

import base64
import json
import os
import stat
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console_env  # noqa: E402
from console_env import WAIT_SECONDS, b32decode  # noqa: E402

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # reported by make_browser() returning None
    By = Keys = EC = Select = WebDriverWait = None

OTPD = os.environ.get("OTPD", "")
OTPCTL = os.environ.get("OTPCTL", "")
ADMIN_ROLES = ("privileged_authentication_administrator", "authentication_policy_administrator")
DEVICES = "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple gun parade 42"
# The Security info listener, and an exec hook standing in for an SMS gateway: it appends each
# event it is given to a file in the daemon's directory, where the test reads the phone's code.
CONFIG = """
selfservice_listen = "127.0.0.1:0"

[hooks.sms]
type = "exec"
command = ["{hook}"]
"""


class Codes:
    """TOTP codes that are each accepted once: the next one of a secret is from a later time step
    than the last one given (otpd refuses a step already used), at most one step ahead of now
    (inside the sign-in window), and not about to expire."""

    def __init__(self):
        self.last = {}

    def next(self, secret: bytes) -> str:
        now = time.time()
        step = int(now // 30) + (1 if 30 - now % 30 < 3 else 0)
        step = max(step, self.last.get(secret, -1) + 1)
        if step > int(now // 30) + 1:
            time.sleep((step - 1) * 30 - now + 0.2)
        self.last[secret] = step
        return console_env.totp(secret, step * 30)

    def activation(self, secret: bytes) -> str:
        """A code of the step before now, for a confirmation (whose window reaches far back),
        leaving the current step for a sign-in."""
        step = int(time.time() // 30) - 1
        self.last[secret] = step
        return console_env.totp(secret, step * 30)

    def wrong(self, secret: bytes) -> str:
        """Six digits that no step of the sign-in window around now accepts, different from the
        last wrong ones (otpd counts a wrong code typed again as one failure)."""
        now = int(time.time() // 30)
        valid = {console_env.totp(secret, (now + d) * 30) for d in range(-3, 4)}
        while True:
            self.wrongs = getattr(self, "wrongs", 0) + 1
            code = str(self.wrongs % 10) * 6
            if code not in valid:
                return code


class SelfServiceTest(console_env.PageSteps, unittest.TestCase):
    SCREENSHOT_PREFIX = "selfservice"

    def setUp(self):
        self.browser = console_env.make_browser(1280, 900)
        if self.browser is None:
            if os.environ.get("CI") == "true":
                self.fail("chromium, chromium-driver and python3-selenium are needed (scripts/deps.sh)")
            self.skipTest("no headless Chromium with chromedriver and selenium here")
        self.assertTrue(OTPD and OTPCTL, "set OTPD and OTPCTL to the built binaries")
        self.daemon = console_env.Daemon(OTPD, OTPCTL)
        self.events = os.path.join(self.daemon.dir, "events.jsonl")
        hook = os.path.join(self.daemon.dir, "sms-hook")
        with open(hook, "w", encoding="utf-8") as f:
            f.write(f"#!/bin/sh\ncat >> '{self.events}'\necho >> '{self.events}'\n")
        os.chmod(hook, stat.S_IRWXU)
        self.daemon.config = CONFIG.format(hook=hook)
        try:
            self.daemon.start()
            port = self.daemon.wait_log(r"selfservice: serving .*?tcp port (\d+)").group(1)
            self.admin = self.daemon.api_key("selfservice-admin", *ADMIN_ROLES)
        except Exception:
            self.browser.quit()
            self.daemon.stop()
            raise
        # Chromium counts loopback (localhost, 127.0.0.1) as a secure context, so it keeps the
        # Secure session cookie over plain HTTP on this loopback listener.
        self.base = f"http://localhost:{port}"
        self.wait = WebDriverWait(self.browser, WAIT_SECONDS)
        self.codes = Codes()

    def tearDown(self):
        if getattr(self, "browser", None):
            result = self._outcome.result
            if any(t is self for t, _ in result.errors + result.failures):
                # What the page said went wrong (error regions never hold a secret), and how it
                # looked.
                self.screenshot("failed-" + self._testMethodName)
                for e in self.browser.find_elements(
                        By.CSS_SELECTOR, ".result.error, .error, .field-error"):
                    if e.text:
                        print(f"{self._testMethodName}: the page shows: {e.text}", file=sys.stderr)
            self.browser.quit()
        if getattr(self, "daemon", None):
            self.daemon.stop()

    # The administrator's side, through the admin API.

    def api(self, method, path, body=None, expect=(200, 201, 202, 204)):
        status, parsed, _ = self.daemon.call(self.admin, method, path, body)
        self.assertIn(status, expect, f"{method} {path}: {status} {parsed}")
        return parsed

    def user_path(self, upn):
        return f"/v1.0/users/{urllib.parse.quote(upn)}/authentication"

    def make_user(self, upn, name):
        self.api("POST", "/v1.0/users", {
            "userPrincipalName": upn, "displayName": name, "accountEnabled": True,
            "passwordProfile": {"password": PASSWORD, "forceChangePasswordNextSignIn": False}})

    def enrol_app(self, upn, name="Authenticator app"):
        """An authenticator app enrolled and confirmed by the administrator: (id, secret)."""
        base = self.user_path(upn) + "/softwareOathMethods"
        app = self.api("POST", base, {"displayName": name})
        secret = b32decode(app["secretKey"])
        self.api("POST", f"{base}/{urllib.parse.quote(app['id'])}/confirm",
                 {"verificationCode": self.codes.activation(secret)})
        return app["id"], secret

    def add_token(self, upn, serial, seed):
        """A hardware TOTP token assigned to `upn` and activated by the administrator."""
        self.api("POST", DEVICES, {"serialNumber": serial,
                                   "secretKey": base64.b32encode(seed).decode(),
                                   "manufacturer": "Contoso", "model": "Key"})
        base = self.user_path(upn) + "/hardwareOathMethods"
        self.api("POST", base, {"device": {"id": serial}})
        self.api("POST", f"{base}/{serial}/activate",
                 {"verificationCode": self.codes.activation(seed)})

    def methods(self, upn, kind):
        return self.api("GET", f"{self.user_path(upn)}/{kind}")["value"]

    # The user's side, in the browser.

    def active(self):
        return self.browser.switch_to.active_element

    def open_page(self):
        self.browser.get(self.base + "/security-info/")
        self.by_id("upn")

    def sign_in(self, upn, password, code):
        """Types the sign-in form and sends it; the caller waits for what should follow."""
        for element_id, value in (("upn", upn), ("password", password), ("code", code)):
            self.by_id(element_id).clear()
            self.by_id(element_id).send_keys(value)
        self.by_id("sign-in-submit").click()

    def signed_in(self):
        self.by_id("methods-title")

    def submit_of(self, element):
        return element.find_element(By.XPATH, "ancestor::form[1]").find_element(
            By.CSS_SELECTOR, "button[type=submit]")

    def method_item(self, method_id):
        return self.css(f"#methods li[data-id='{method_id}']")

    def kind_item(self, kind):
        return self.css(f"#methods li[data-kind='#microsoft.graph.{kind}']")

    def session_cookie(self):
        cookies = [c for c in self.browser.get_cookies() if c["name"] == "otpd_session"]
        self.assertEqual(len(cookies), 1, "the browser holds no otpd_session cookie")
        return cookies[0]

    def call_with_cookie(self, method, path, cookie, body=None, headers=None):
        """(status, parsed JSON or None) of a request carrying the session cookie, as a script on
        another origin or a thief of the cookie would send it."""
        h = {"Cookie": f"otpd_session={cookie}"} if cookie else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        url = self.base.replace("localhost", "127.0.0.1") + path
        req = urllib.request.Request(url, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=WAIT_SECONDS) as r:
                raw = r.read()
                # The session a sign-in started, kept for the caller.
                set_cookie = r.headers.get("Set-Cookie") or ""
                if set_cookie.startswith("otpd_session="):
                    self.last_cookie = set_cookie.split(";")[0].split("=", 1)[1]
                return r.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, None

    def sent_codes(self, upn):
        """The data of every sms.send event for `upn` the hook was given, oldest first."""
        found = []
        if os.path.exists(self.events):
            with open(self.events, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        event = json.loads(line)
                        if event.get("type") == "sms.send" and event.get("user") == upn:
                            found.append(event["data"])
        return found

    def sent_code(self, upn):
        """The newest sms.send event's data for `upn`, waiting for the hook to be given it."""
        deadline = time.time() + WAIT_SECONDS
        while time.time() < deadline:
            found = self.sent_codes(upn)
            if found:
                return found[-1]
            time.sleep(0.1)
        self.fail(f"no sms.send event for {upn} reached the hook")

    # Tests.

    def test_page_headers(self):
        with urllib.request.urlopen(self.base + "/security-info/", timeout=WAIT_SECONDS) as r:
            csp = r.headers["Content-Security-Policy"]
            page = r.read().decode()
        for part in ("default-src 'self'", "script-src 'self'", "img-src 'self' data:",
                     "frame-ancestors 'none'"):
            self.assertIn(part, csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        self.assertNotIn("style=", page)
        self.assertNotIn("<script>", page)
        status, body = self.call_with_cookie("GET", "/selfservice/session", "not-a-session")
        self.assertEqual(status, 401)
        self.assertEqual(body["error"]["code"], "InvalidAuthenticationToken")

    def test_reregister_with_a_temporary_access_pass(self):
        upn = "rita@example.com"
        self.make_user(upn, "Rita Example")
        self.enrol_app(upn, "Old phone")
        self.api("POST", f"{self.user_path(upn)}/requireReregistration", {})
        tap = self.api("POST", f"{self.user_path(upn)}/temporaryAccessPassMethods",
                       {"lifetimeInMinutes": 60})["temporaryAccessPass"]

        self.open_page()
        self.assertFalse(self.browser.find_element(By.ID, "tap").is_displayed())
        self.by_id("use-tap").click()
        # Only the user name and the pass are asked for now.
        for element_id in ("password", "code"):
            self.assertFalse(self.browser.find_element(By.ID, element_id).is_displayed())
        self.assertEqual(self.active().get_attribute("id"), "tap")
        self.by_id("use-tap").click()
        self.assertFalse(self.browser.find_element(By.ID, "tap").is_displayed())
        # With the password and a code otpd says why not, and the form asks for a pass.
        self.sign_in(upn, PASSWORD, "123456")  # the old app is gone: no code would do
        self.text_appears("#sign-in-error", "Temporary Access Pass")
        self.assertEqual(self.active().get_attribute("id"), "tap")
        self.assertFalse(self.browser.find_element(By.ID, "code").is_displayed())
        self.by_id("tap").send_keys(tap)
        self.screenshot("sign-in-tap")
        self.by_id("sign-in-submit").click()
        banner = self.by_id("register-banner")
        self.assertIn("Your organisation needs you to set up a sign-in method", banner.text)
        self.assertIn("Rita Example", self.by_id("who").text)
        # The authenticator app's flow is open, with the focus in it.
        self.assertEqual(self.active().get_attribute("name"), "app-name")
        self.screenshot("register-banner")

        self.submit_of(self.active()).click()
        uri = self.by_id("otpauth-uri").text
        self.assertTrue(uri.startswith("otpauth://totp/"))
        key = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
        self.assertEqual(self.by_id("secret-key").text.replace(" ", ""), key,
                         "the key shown is not the link's secret")
        qr = self.css("img.qr")
        self.assertTrue(qr.get_attribute("src").startswith("data:image/svg+xml"))
        self.assertTrue(self.browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", qr),
            "the QR code image did not load (the CSP must allow data: images)")
        self.screenshot("authenticator-app")
        secret = b32decode(key)
        code = self.css("input[name=verification-code]")
        self.assertEqual(self.active(), code)
        code.send_keys(self.codes.next(secret))
        self.submit_of(code).click()
        self.wait.until(EC.invisibility_of_element_located((By.ID, "register-banner")))
        self.text_appears("#methods", "Authenticator app")
        self.screenshot("registered")
        apps = self.methods(upn, "softwareOathMethods")
        self.assertEqual([a["status"] for a in apps], ["active"])

        # The new app signs in on the verify socket; the old one was deleted by the
        # re-registration.
        reply = self.daemon.verify(upn, self.codes.next(secret))
        self.assertTrue(reply.startswith("OK"), reply)

    def test_add_a_phone(self):
        upn = "sam@example.com"
        self.make_user(upn, "Sam Example")
        _, secret = self.enrol_app(upn)
        self.open_page()
        self.sign_in(upn, PASSWORD, self.codes.next(secret))
        self.signed_in()
        self.by_id("add-method").click()
        self.by_id("add-phone").click()
        Select(self.css("select[name=phone-type]")).select_by_value("mobile")
        number = self.css("input[name=phone-number]")
        number.send_keys("5555550100")  # no country code: refused in the page, nothing sent
        self.submit_of(number).click()
        self.text_appears("#add-method-form", "country code")
        self.assertFalse(self.sent_codes(upn), "a code was sent to a number the page refused")
        number.clear()
        number.send_keys("+1 5555550100")
        self.submit_of(number).click()
        code = self.css("input[name=phone-code]")
        self.text_appears("#add-method-form", "We sent a code by text message")
        sms = self.sent_code(upn)
        self.assertEqual(sms["to"].replace(" ", ""), "+15555550100")
        self.screenshot("phone-code")
        code.send_keys("000000" if sms["code"] != "000000" else "111111")
        self.submit_of(code).click()
        self.wait.until(lambda d: code.get_attribute("aria-invalid") == "true")
        self.assertEqual(self.methods(upn, "phoneMethods"), [])
        code.clear()
        code.send_keys(sms["code"])
        self.submit_of(code).click()
        self.text_appears("#methods", "Phone (Mobile)")
        item = self.kind_item("phoneAuthenticationMethod")
        # Masked: the country code and the last digits only.
        detail = item.find_element(By.CSS_SELECTOR, ".method-detail").text
        self.assertTrue(detail.startswith("+1 ") and detail.endswith("00"), detail)
        self.assertLessEqual(sum(c.isdigit() for c in detail), 4, detail)
        self.screenshot("phone-added")
        phones = self.methods(upn, "phoneMethods")
        self.assertEqual([p["phoneType"] for p in phones], ["mobile"])
        # Texts to that mobile become the default; the choices are the methods the user has.
        choice = Select(self.by_id("default-method"))
        offered = [o.get_attribute("value") for o in choice.options]
        self.assertEqual(offered, ["none", "oath", "sms", "voiceMobile"])
        choice.select_by_value("sms")
        self.submit_of(self.by_id("default-method")).click()
        self.text_appears("#default-method-form", "was saved")
        preferences = self.api("GET", self.user_path(upn) + "/signInPreferences")
        self.assertEqual(preferences["userPreferredMethodForSecondaryAuthentication"], "sms")

    def test_change_password(self):
        upn = "pat@example.com"
        self.make_user(upn, "Pat Example")
        _, secret = self.enrol_app(upn)
        self.open_page()
        self.sign_in(upn, PASSWORD, self.codes.next(secret))
        self.signed_in()
        current = self.css("input[name=current-password]")
        current.send_keys(PASSWORD)
        self.css("input[name=new-password]").send_keys(NEW_PASSWORD)
        repeat = self.css("input[name=repeat-password]")
        repeat.send_keys(NEW_PASSWORD + "x")
        self.submit_of(repeat).click()
        self.text_appears("#password-form", "The two new passwords are not the same")
        self.assertEqual(repeat.get_attribute("aria-invalid"), "true")
        # A wrong current password: the server's refusal is shown next to it.
        current.clear()
        current.send_keys("not the password")
        repeat.clear()
        repeat.send_keys(NEW_PASSWORD)
        self.submit_of(repeat).click()
        self.wait.until(lambda d: current.get_attribute("aria-invalid") == "true")
        current_error = current.find_element(By.XPATH, "following-sibling::p[@class='field-error']")
        self.assertIn("not right", current_error.text)
        self.screenshot("password-refused")
        current.clear()
        current.send_keys(PASSWORD)
        self.submit_of(repeat).click()
        self.text_appears("#password-form", "Your password was changed")
        self.screenshot("password-changed")

        self.by_id("sign-out").click()
        self.text_appears("#sign-in-error", "You signed out")
        self.sign_in(upn, PASSWORD, self.codes.next(secret))
        self.text_appears("#sign-in-error", "not right")
        self.assertFalse(self.browser.find_element(By.ID, "page").is_displayed())
        self.sign_in(upn, NEW_PASSWORD, self.codes.next(secret))
        self.signed_in()

    def test_delete_a_method_but_not_the_last(self):
        upn = "dana@example.com"
        self.make_user(upn, "Dana Example")
        work_id, work = self.enrol_app(upn, "Work phone")
        old_id, _ = self.enrol_app(upn, "Old phone")
        self.open_page()
        self.sign_in(upn, PASSWORD, self.codes.next(work))
        self.signed_in()

        # Escape closes the confirmation and deletes nothing.
        self.method_item(old_id).find_element(By.CSS_SELECTOR, "button.danger").click()
        self.css("dialog[open]")
        self.assertEqual(self.active().text, "Cancel")
        self.screenshot("delete-confirm")
        self.active().send_keys(Keys.ESCAPE)
        self.wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, "dialog[open]")))
        self.assertEqual(len(self.methods(upn, "softwareOathMethods")), 2)

        self.method_item(old_id).find_element(By.CSS_SELECTOR, "button.danger").click()
        self.css("dialog[open] button.danger").click()
        self.wait.until(EC.invisibility_of_element_located(
            (By.CSS_SELECTOR, f"#methods li[data-id='{old_id}']")))
        self.assertEqual([a["id"] for a in self.methods(upn, "softwareOathMethods")], [work_id])
        # The deletion is in the user's recent activity, as done by them.
        activity = self.by_id("activity")
        self.browser.execute_script("arguments[0].scrollIntoView()", activity)
        self.text_appears("#activity", "Method deleted")
        self.assertIn("you", activity.text)
        # And when each app last signed the user in (from /v1.0/me/signInActivity).
        self.text_appears("#activity", "Last sign-in")
        self.screenshot("activity")

        # The last second factor: the server refuses, and the page shows its reason.
        self.method_item(work_id).find_element(By.CSS_SELECTOR, "button.danger").click()
        self.css("dialog[open] button.danger").click()
        error = self.css("#methods-title ~ .result.error")
        self.assertTrue(error.text)
        self.assertNotIn("HTTP", error.text)
        self.screenshot("delete-last-refused")
        self.method_item(work_id)
        self.assertEqual([a["id"] for a in self.methods(upn, "softwareOathMethods")], [work_id])

    def test_cookie_replayed_after_sign_out_is_refused(self):
        upn = "cora@example.com"
        self.make_user(upn, "Cora Example")
        seed = bytes(range(1, 21))
        self.add_token(upn, "CORA-1", seed)
        self.open_page()
        self.sign_in(upn, PASSWORD, self.codes.next(seed))
        self.signed_in()
        # A hardware token and the password are listed, and are not the user's to delete.
        token = self.kind_item("hardwareOathAuthenticationMethod")
        self.assertIn("Hardware token", token.text)
        self.assertIn("serial CORA-1", token.text)
        password = self.kind_item("passwordAuthenticationMethod")
        for item in (token, password):
            self.assertEqual(item.find_elements(By.TAG_NAME, "button"), [])
        cookie = self.session_cookie()
        self.assertTrue(cookie["httpOnly"])
        self.assertTrue(cookie["secure"])
        self.assertEqual(cookie.get("sameSite"), "Strict")
        self.assertEqual(self.browser.execute_script("return document.cookie"), "")
        self.assertEqual(self.browser.execute_script(
            "return [localStorage.length, sessionStorage.length]"), [0, 0])
        status, me = self.call_with_cookie("GET", "/v1.0/me", cookie["value"])
        self.assertEqual(status, 200)
        self.assertEqual(me["userPrincipalName"], upn)

        self.by_id("sign-out").click()
        self.text_appears("#sign-in-error", "You signed out")
        for path in ("/v1.0/me", "/selfservice/session", "/v1.0/me/authentication/methods"):
            status, body = self.call_with_cookie("GET", path, cookie["value"])
            self.assertEqual(status, 401, f"{path} answered {status} to a signed-out cookie")
        # The page, reloaded, does not come back signed in either.
        self.browser.refresh()
        self.by_id("upn")
        self.assertFalse(self.browser.find_elements(By.ID, "methods-title"))

    def test_write_without_csrf_token_is_refused(self):
        upn = "carl@example.com"
        self.make_user(upn, "Carl Example")
        app_id, secret = self.enrol_app(upn)
        self.open_page()
        self.sign_in(upn, PASSWORD, self.codes.next(secret))
        self.signed_in()
        cookie = self.session_cookie()["value"]
        attempts = [
            ("POST", "/v1.0/me/authentication/emailMethods", {"emailAddress": "x@example.com"}),
            ("DELETE", f"/v1.0/me/authentication/softwareOathMethods/{app_id}", None),
            ("POST", "/v1.0/me/changePassword",
             {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
        ]
        for method, path, body in attempts:
            status, answer = self.call_with_cookie(method, path, cookie, body)
            self.assertEqual(status, 403, f"{method} {path} without X-CSRF-Token: {status}")
            self.assertEqual(answer["error"]["code"], "csrfTokenMissing")
            status, answer = self.call_with_cookie(method, path, cookie, body,
                                                   {"X-CSRF-Token": "guessed"})
            self.assertEqual(status, 403, f"{method} {path} with a wrong X-CSRF-Token: {status}")
            self.assertEqual(answer["error"]["code"], "csrfTokenWrong")
        self.assertEqual(self.methods(upn, "emailMethods"), [])
        self.assertEqual([a["id"] for a in self.methods(upn, "softwareOathMethods")], [app_id])
        # The password is still the old one: the page signs in with it again.
        self.by_id("sign-out").click()
        self.sign_in(upn, PASSWORD, self.codes.next(secret))
        self.signed_in()
        # After a reload the page takes up the session again, its token included: the same
        # write from the page is done.
        self.browser.refresh()
        self.signed_in()
        self.by_id("add-method").click()
        self.by_id("add-email").click()
        address = self.css("input[name=email-address]")
        address.send_keys("carl.home@example.com")
        self.submit_of(address).click()
        self.text_appears("#methods", "carl.home@example.com")
        self.assertEqual([m["emailAddress"] for m in self.methods(upn, "emailMethods")],
                         ["carl.home@example.com"])

    def test_reauthentication_asked_then_the_write_repeated(self):
        upn = "remy@example.com"
        self.make_user(upn, "Remy Example")
        _, secret = self.enrol_app(upn)
        self.open_page()
        self.sign_in(upn, PASSWORD, self.codes.next(secret))
        self.signed_in()
        # otpd asks again only 10 minutes after the last code: here the page's fetch answers the
        # first two attempts of this write as otpd would then. /selfservice/reauth is otpd's own.
        self.browser.execute_script("""
            const real = window.fetch;
            let left = 2;
            window.fetch = (path, init) => {
              if (path === '/v1.0/me/authentication/emailMethods' && left > 0) {
                left -= 1;
                return Promise.resolve(new Response(JSON.stringify({error: {
                  code: 'reauthenticationRequired', message: 'confirm it is you'}}),
                  {status: 403, headers: {'Content-Type': 'application/json'}}));
              }
              return real(path, init);
            };""")
        self.by_id("add-method").click()
        self.by_id("add-email").click()
        address = self.css("input[name=email-address]")
        address.send_keys("remy.home@example.com")
        self.submit_of(address).click()
        self.css("dialog[open]")
        self.assertEqual(self.active().get_attribute("name"), "reauth-code")
        # Escape gives up: nothing is added, and the page says why.
        self.active().send_keys(Keys.ESCAPE)
        self.wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, "dialog[open]")))
        self.text_appears("#add-method-form", "fresh code")
        self.assertEqual(self.methods(upn, "emailMethods"), [])

        self.submit_of(address).click()
        self.css("dialog[open]")
        code = self.active()
        code.send_keys(self.codes.wrong(secret))
        code.send_keys(Keys.ENTER)
        self.text_appears("dialog[open]", "not right")
        self.screenshot("reauth")
        code.clear()
        code.send_keys(self.codes.next(secret) + Keys.ENTER)
        self.wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, "dialog[open]")))
        self.text_appears("#methods", "remy.home@example.com")
        self.assertEqual([m["emailAddress"] for m in self.methods(upn, "emailMethods")],
                         ["remy.home@example.com"])

    def test_ended_session_returns_to_sign_in(self):
        upn = "eve@example.com"
        self.make_user(upn, "Eve Example")
        _, secret = self.enrol_app(upn)
        self.open_page()
        self.sign_in(upn, PASSWORD, self.codes.next(secret))
        self.signed_in()
        # The session ends elsewhere (here: signed out with its own cookie and token).
        cookie = self.session_cookie()["value"]
        status, session = self.call_with_cookie("GET", "/selfservice/session", cookie)
        self.assertEqual(status, 200)
        status, _ = self.call_with_cookie("POST", "/selfservice/signout", cookie, {},
                                          {"X-CSRF-Token": session["csrfToken"]})
        self.assertEqual(status, 204)
        self.by_id("sign-out-everywhere").click()
        self.text_appears("#sign-in-error", "Your session ended; sign in again")
        self.assertEqual(self.active().get_attribute("id"), "upn")
        self.assertFalse(self.browser.find_element(By.ID, "page").is_displayed())
        self.screenshot("session-ended")

    def test_locked_sign_in_says_when_to_retry(self):
        upn = "lou@example.com"
        self.make_user(upn, "Lou Example")
        _, secret = self.enrol_app(upn)
        self.open_page()
        error = self.browser.find_element(By.ID, "sign-in-error")
        # The right password with wrong codes: whoever knows the password must not be able to
        # go on guessing codes.
        for _ in range(10):
            self.sign_in(upn, PASSWORD, self.codes.wrong(secret))
            self.wait.until(lambda d: error.text and self.by_id("sign-in-submit").is_enabled())
            self.assertFalse(self.browser.find_element(By.ID, "page").is_displayed())
            if "again after" in error.text:
                break
            self.assertIn("not right", error.text)
        self.assertIn("You can sign in again after", error.text)
        self.assertEqual(self.active().get_attribute("id"), "code")
        self.screenshot("locked")
        # Locked, even the right code is refused until then.
        self.sign_in(upn, PASSWORD, self.codes.next(secret))
        self.wait.until(lambda d: error.text and self.by_id("sign-in-submit").is_enabled())
        self.assertIn("again after", error.text)

    def test_sign_out_everywhere(self):
        upn = "otto@example.com"
        self.make_user(upn, "Otto Example")
        _, secret = self.enrol_app(upn)
        # A session elsewhere: another browser, signed in through the API.
        status, other = self.call_with_cookie("POST", "/selfservice/signin", "", {
            "userPrincipalName": upn, "password": PASSWORD,
            "verificationCode": self.codes.next(secret)})
        self.assertEqual(status, 200)
        status, _ = self.call_with_cookie("GET", "/v1.0/me", self.last_cookie)
        self.assertEqual(status, 200)
        elsewhere = self.last_cookie
        self.open_page()
        self.sign_in(upn, PASSWORD, self.codes.next(secret))
        self.signed_in()
        self.by_id("sign-out-everywhere").click()
        self.text_appears("#sessions-title ~ .result.ok", "signed out everywhere else")
        status, _ = self.call_with_cookie("GET", "/v1.0/me", elsewhere)
        self.assertEqual(status, 401, "the other session still answers")
        # This one goes on.
        status, _ = self.call_with_cookie("GET", "/v1.0/me", self.session_cookie()["value"])
        self.assertEqual(status, 200)
        self.browser.refresh()
        self.signed_in()

    def test_keyboard_only_at_phone_width(self):
        upn = "kim@example.com"
        self.make_user(upn, "Kim Example")
        _, secret = self.enrol_app(upn)
        # A phone's viewport (Chromium's window cannot be made narrower than about 500 px).
        self.browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": True})
        self.open_page()
        self.assertEqual(self.active().get_attribute("id"), "upn")
        self.assertFalse(self.browser.find_element(By.ID, "tap").is_displayed())
        self.active().send_keys(upn + Keys.TAB)
        self.assertEqual(self.active().get_attribute("id"), "password")
        self.active().send_keys(PASSWORD + Keys.TAB)
        self.assertEqual(self.active().get_attribute("id"), "code")
        self.active().send_keys(self.codes.next(secret))
        self.assertNoHorizontalScroll()
        self.screenshot("sign-in-phone-width")
        self.active().send_keys(Keys.ENTER)
        self.signed_in()
        self.assertEqual(self.active().get_attribute("id"), "page-title")
        self.assertNoHorizontalScroll()
        self.screenshot("methods-phone-width")

        # To "Add sign-in method" with Tab alone, then the app's flow with Enter.
        for _ in range(40):
            if self.active().get_attribute("id") == "add-method":
                break
            self.active().send_keys(Keys.TAB)
        self.assertEqual(self.active().get_attribute("id"), "add-method")
        self.active().send_keys(Keys.ENTER)
        self.assertEqual(self.active().get_attribute("id"), "add-app")
        self.active().send_keys(Keys.ENTER)
        self.assertEqual(self.active().get_attribute("name"), "app-name")
        self.active().send_keys(Keys.ENTER)
        self.by_id("otpauth-uri")
        self.assertEqual(self.active().get_attribute("name"), "verification-code")
        self.assertNoHorizontalScroll()
        self.screenshot("authenticator-app-phone-width")

        # Every control the page shows has an accessible name.
        unnamed = self.browser.execute_script("""
            return [...document.querySelectorAll('button, input:not([hidden]), select')]
              .filter((e) => e.offsetParent !== null)
              .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                             && !e.textContent.trim())
              .map((e) => e.outerHTML.slice(0, 80));""")
        self.assertEqual(unnamed, [])

    def assertNoHorizontalScroll(self):
        widths = self.browser.execute_script(
            "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];")
        self.assertEqual(widths[1], 360)
        self.assertLessEqual(widths[0], widths[1], "the page scrolls sideways at 360 px")


if __name__ == "__main__":
    unittest.main()
