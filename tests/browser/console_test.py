"""The admin console in a real browser: headless Chromium (Selenium) against a real otpd.

Run by CTest (tests/browser/CMakeLists.txt), or by hand:
  OTPD=build/test/tools/otpd OTPCTL=build/test/tools/otpctl ARTIFACTS=/tmp/shots \
    /usr/bin/python3 tests/browser/console_test.py -v
Without Chromium, chromedriver or python3-selenium the tests are skipped, except under CI=true,
where they fail: CI must run them.
"""

import os
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console_env  # noqa: E402
from console_env import WAIT_SECONDS, b32decode, fresh_totp  # noqa: E402

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # reported by make_browser() returning None
    By = EC = Select = WebDriverWait = None

OTPD = os.environ.get("OTPD", "")
OTPCTL = os.environ.get("OTPCTL", "")
ADMIN_ROLES = ("privileged_authentication_administrator", "authentication_policy_administrator")
DEVICES = "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices"
SEED_A = bytes(range(1, 21))
SEED_B = bytes(range(21, 41))
# Two hooks for the hooks page: one that takes every event, one whose program always fails, so
# that its first event becomes a dead letter at once.
HOOKS_CONFIG = """
[hooks.directory-sync]
type = "exec"
command = ["/bin/true"]

[hooks.sms-gateway]
type = "exec"
command = ["/bin/false"]
attempts = 1
retry_initial_ms = 100
"""


class ConsoleTest(console_env.PageSteps, unittest.TestCase):
    SCREENSHOT_PREFIX = "console"

    def setUp(self):
        self.browser = console_env.make_browser()
        if self.browser is None:
            if os.environ.get("CI") == "true":
                self.fail("chromium, chromium-driver and python3-selenium are needed (scripts/deps.sh)")
            self.skipTest("no headless Chromium with chromedriver and selenium here")
        self.assertTrue(OTPD and OTPCTL, "set OTPD and OTPCTL to the built binaries")
        self.daemon = console_env.Daemon(
            OTPD, OTPCTL, HOOKS_CONFIG if self._testMethodName == "test_hooks" else "")
        try:
            self.daemon.start()
            self.admin = self.daemon.api_key("console-admin", *ADMIN_ROLES)
            self.reader = self.daemon.api_key("console-reader", "reader")
        except Exception:
            self.browser.quit()
            self.daemon.stop()
            raise
        self.wait = WebDriverWait(self.browser, WAIT_SECONDS)

    def tearDown(self):
        if getattr(self, "browser", None):
            result = self._outcome.result
            if any(t is self for t, _ in result.errors + result.failures):
                # What the page said went wrong (error regions never hold a secret), and how it
                # looked.
                self.screenshot("failed-" + self._testMethodName)
                for e in self.browser.find_elements(By.CSS_SELECTOR, ".result.error, .error"):
                    if e.text:
                        print(f"{self._testMethodName}: the page shows: {e.text}", file=sys.stderr)
            self.browser.quit()
        if getattr(self, "daemon", None):
            self.daemon.stop()

    # Steps the tests share.

    def api(self, method, path, body=None, expect=(200, 201, 202, 204), key=None):
        status, parsed, _ = self.daemon.call(key or self.admin, method, path, body)
        self.assertIn(status, expect, f"{method} {path}: {status} {parsed}")
        return parsed

    def add_user(self, upn, name=None):
        self.api("PUT", f"/v1.0/users/{urllib.parse.quote(upn)}", {"displayName": name or upn})

    def add_token(self, upn, serial, seed):
        """A TOTP token assigned to `upn` and activated, through the API."""
        import base64
        self.api("POST", DEVICES, {"serialNumber": serial,
                                   "secretKey": base64.b32encode(seed).decode(),
                                   "manufacturer": "Contoso", "model": "Key"})
        base = f"/v1.0/users/{urllib.parse.quote(upn)}/authentication/hardwareOathMethods"
        self.api("POST", base, {"device": {"id": serial}})
        self.api("POST", f"{base}/{serial}/activate",
                 {"verificationCode": console_env.totp(seed, time.time() - 30)})

    def sign_in(self, key, page="#/users"):
        self.browser.get(self.daemon.base + "/")
        self.by_id("api-key").send_keys(key)
        self.browser.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
        self.by_id("nav")
        self.browser.get(self.daemon.base + "/" + page)
        self.css("#page h1")

    def open_user(self, upn):
        self.browser.get(f"{self.daemon.base}/#/user/{urllib.parse.quote(upn)}")
        self.text_appears("#page h1", "Authentication methods")

    def confirm_dialog(self):
        self.css("dialog[open] button.danger").click()
        self.wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, "dialog[open]")))

    # Tests.

    def test_headers_and_sign_in(self):
        with urllib.request.urlopen(self.daemon.base + "/", timeout=WAIT_SECONDS) as r:
            csp = r.headers["Content-Security-Policy"]
            self.assertIn("script-src 'self'", csp)
            self.assertIn("frame-ancestors 'none'", csp)
            self.assertNotIn("unsafe-inline", csp)
            self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
            self.assertEqual(r.headers["Referrer-Policy"], "no-referrer")
            page = r.read().decode()
            self.assertNotIn("style=", page)
            self.assertNotIn("<script>", page)
        status, me, headers = self.daemon.call(self.admin, "GET", "/v1.0/me")
        self.assertEqual(status, 200)
        self.assertEqual(me["name"], "console-admin")
        self.assertEqual(sorted(me["roles"]), sorted(ADMIN_ROLES))
        self.assertEqual(headers["Cache-Control"], "no-store")
        status, _, _ = self.daemon.call("not-a-key", "GET", "/v1.0/me")
        self.assertEqual(status, 401)

        # A wrong key is refused in words; the right one signs in, and lives in sessionStorage.
        self.browser.get(self.daemon.base + "/")
        self.by_id("api-key").send_keys("wrong")
        self.browser.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
        self.text_appears("#sign-in-error", "not accepted")
        self.screenshot("sign-in-refused")
        self.sign_in(self.admin, "#/overview")
        self.text_appears("#who", "console-admin")
        stored = self.browser.execute_script(
            "return [sessionStorage.getItem('otpd.apiKey') !== null, localStorage.length,"
            " document.cookie]")
        self.assertEqual(stored, [True, 0, ""])
        # Sign-ins for the chart while it polls: one accepted, the others refused for an
        # unknown user or a wrong code, so that each result has its line.
        self.add_user("chart@example.com")
        self.add_token("chart@example.com", "CHART-1", SEED_A)
        self.assertTrue(self.daemon.verify("chart@example.com", fresh_totp(SEED_A))
                        .startswith("OK"))
        deadline = time.time() + 10
        n = 0
        while time.time() < deadline:
            n += 1
            self.daemon.verify("nobody@example.com", "123456")
            if n % 3 == 0:
                self.daemon.verify("chart@example.com", "000000")
            time.sleep(0.15 + 0.1 * (n % 5))
        self.wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR,
                                                      "#rate-chart polyline")) >= 3)
        self.text_appears("#overview-now", "Unknown user")
        now = self.browser.find_element(By.ID, "overview-now").text
        self.assertNotIn("unknown_user", now)
        self.assertNotIn("bad_code", now)
        self.text_appears("#overview-now", "Total sign-ins (accepted)")
        self.assertIn("1", self.browser.find_element(
            By.XPATH, "//td[.='Total sign-ins (accepted)']/following-sibling::td").text)
        self.screenshot("overview")

    def test_import_assign_and_activate(self):
        self.add_user("helga@contoso.com", "Helga")
        csv = os.path.join(self.daemon.dir, "tokens.csv")
        with open(csv, "w", encoding="utf-8") as f:
            f.write("serial,seed,type,digits,step\n")
            f.write(f"CON-100,{SEED_A.hex()},totp,6,30\n")
            f.write(f"CON-101,{SEED_B.hex()},totp,6,30\n")
            f.write("CON-102,zz,totp,6,30\n")  # a bad seed: its row fails
        self.sign_in(self.admin, "#/tokens")
        self.css("input[name=token-file]").send_keys(csv)
        self.browser.find_element(By.CSS_SELECTOR, "#import-result").find_element(
            By.XPATH, "..").find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.text_appears("#import-result", "2 new")
        self.text_appears("#import-result", "1 failed")
        self.text_appears("#import-result", "not valid hex")  # the failed row and its reason
        self.screenshot("tokens-import")

        # Assign CON-100 to Helga, then activate it with the code the token would show.
        self.text_appears("#token-list", "CON-100")
        self.browser.find_element(
            By.CSS_SELECTOR, "input[aria-label='User to assign CON-100 to']").send_keys(
                "helga@contoso.com")
        self.browser.find_element(
            By.CSS_SELECTOR, "[aria-label='Actions for CON-100'] button").click()
        self.text_appears("#token-result", "CON-100 assigned")
        code = self.css("input[aria-label='Code shown on CON-100']")
        code.send_keys("000000")
        code.find_element(By.XPATH, "..").find_element(By.TAG_NAME, "button").click()
        # A wrong code is refused in words, in the token's own row.
        self.text_appears("[aria-label='Actions for CON-100'] .row-error", "not right")
        code = self.css("input[aria-label='Code shown on CON-100']")
        code.clear()
        code.send_keys(fresh_totp(SEED_A))
        code.find_element(By.XPATH, "..").find_element(By.TAG_NAME, "button").click()
        self.text_appears("#token-result", "CON-100 activated")
        device = self.api("GET", f"{DEVICES}/CON-100")
        self.assertEqual(device["status"], "activated")
        self.assertEqual(device["assignedTo"]["id"], "helga@contoso.com")
        types = self.browser.execute_script(
            "return [...document.querySelectorAll('#token-list td[data-label=Type]')]"
            ".map((td) => td.textContent)")
        self.assertTrue(types and all("30\u00a0s" in t for t in types), types)
        self.screenshot("tokens")
        self.browser.set_window_size(390, 844)
        self.text_appears("#token-list", "CON-101")
        self.browser.execute_script("document.getElementById('token-list').scrollIntoView()")
        # Each row a card, its actions inside it: nothing to scroll sideways for.
        self.assertTrue(self.browser.execute_script(
            "const w = document.querySelector('#token-list .table-wrap');"
            "return w.scrollWidth <= w.clientWidth"))
        self.screenshot("tokens-phone-width")

    def test_phone_number_checked_as_typed(self):
        self.add_user("adele@contoso.com", "Adele Vance")
        self.sign_in(self.admin)
        self.open_user("adele@contoso.com")
        self.by_id("add-method").click()
        number = self.css("input[name=phone-number]")
        number.send_keys("4255551234")
        self.assertEqual(number.get_attribute("aria-invalid"), "true")
        self.text_appears(".method-form", "+1 4255551234")
        number.find_element(By.XPATH, "ancestor::form[1]").find_element(
            By.CSS_SELECTOR, "button[type=submit]").click()
        time.sleep(0.5)
        methods = self.api("GET", "/v1.0/users/adele@contoso.com/authentication/methods")
        self.assertEqual(methods["value"], [], "a bad number must not be sent")
        self.screenshot("phone-invalid")
        number.clear()
        number.send_keys("+1 4255551234")
        self.assertEqual(number.get_attribute("aria-invalid"), "false")
        number.find_element(By.XPATH, "ancestor::form[1]").find_element(
            By.CSS_SELECTOR, "button[type=submit]").click()
        self.text_appears("#page table", "+1 4255551234")
        self.screenshot("user-methods")
        self.browser.set_window_size(390, 844)
        self.text_appears("#page table", "mobile")
        self.screenshot("user-methods-phone-width")

    def test_software_token_enrolment(self):
        self.add_user("bob@contoso.com", "Bob")
        self.sign_in(self.admin)
        self.open_user("bob@contoso.com")
        self.by_id("add-method").click()
        Select(self.css("select[name=method-kind]")).select_by_value("software")
        self.css(".method-form button[type=submit]").click()
        uri = self.by_id("otpauth-uri").text
        self.assertTrue(uri.startswith("otpauth://totp/"))
        qr = self.css("img.qr")
        self.assertTrue(qr.get_attribute("src").startswith("blob:"))
        self.assertTrue(self.browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", qr))
        self.screenshot("software-token")
        secret = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
        self.css("input[name=verification-code]").send_keys(fresh_totp(b32decode(secret)))
        self.css("input[name=verification-code]").find_element(
            By.XPATH, "ancestor::form[1]").find_element(By.CSS_SELECTOR,
                                                     "button[type=submit]").click()
        self.text_appears("#page table", "active")
        methods = self.api("GET", "/v1.0/users/bob@contoso.com/authentication/softwareOathMethods")
        self.assertEqual([m["status"] for m in methods["value"]], ["active"])

    def test_reset_password_shows_it_once(self):
        self.add_user("carol@contoso.com")
        self.sign_in(self.admin)
        self.open_user("carol@contoso.com")
        self.by_id("reset-password").click()
        self.confirm_dialog()
        box = self.css("#user-result output[data-secret=password]")
        self.assertGreaterEqual(len(box.text), 8)
        self.text_appears("#user-result", "was reset")
        self.screenshot("reset-password")
        self.browser.refresh()  # the page again, from the daemon: the password is gone
        self.text_appears("#page h1", "Authentication methods")
        self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, "output[data-secret]"), [])

    def test_temporary_access_pass(self):
        self.add_user("tess@contoso.com")
        self.sign_in(self.admin)
        self.open_user("tess@contoso.com")
        self.by_id("add-method").click()
        Select(self.css("select[name=method-kind]")).select_by_value("tap")
        lifetime = self.css("input[name=tap-lifetime]")
        lifetime.clear()
        lifetime.send_keys("5")  # under the 10-minute floor: refused in the page
        self.css(".method-form button[type=submit]").click()
        self.text_appears(".method-form .result.error", "from 10 to 43200")
        lifetime.clear()
        lifetime.send_keys("120")
        self.css(".method-form button[type=submit]").click()
        box = self.css(".method-form output[data-secret=tap]")
        self.assertGreaterEqual(len(box.text), 8)
        self.assertTrue(self.browser.find_element(
            By.XPATH, "//output[@data-secret='tap']/following-sibling::button").is_displayed())
        self.screenshot("temporary-access-pass")
        passes = self.api("GET",
                          "/v1.0/users/tess@contoso.com/authentication/temporaryAccessPassMethods")
        self.assertEqual([(p["lifetimeInMinutes"], p["isUsableOnce"]) for p in passes["value"]],
                         [(120, True)])
        self.assertNotIn("temporaryAccessPass", passes["value"][0])
        self.css(".method-form button[name=done]").click()  # Done: the list again
        self.text_appears("#page table", "Temporary Access Pass")

    def test_require_reregister(self):
        upn = "dan@contoso.com"
        self.add_user(upn)
        self.add_token(upn, "DAN-1", SEED_A)
        self.api("POST", f"/v1.0/users/{upn}/authentication/phoneMethods",
                 {"phoneNumber": "+1 4255550100", "phoneType": "mobile"})
        self.sign_in(self.admin)
        self.open_user(upn)
        self.by_id("require-reregister").click()
        dialog = self.css("dialog[open]")
        self.assertIn("DAN-1", dialog.text)
        self.assertIn("Phone", dialog.text)
        self.screenshot("require-reregister-confirm")
        self.confirm_dialog()
        self.text_appears("#user-result", "Deactivated hardware token DAN-1")
        self.text_appears("#registration-required", "Yes")
        self.screenshot("require-reregister-done")
        reply = self.daemon.verify(upn, fresh_totp(SEED_A))
        self.assertIn("registration_required", reply)

    def test_revoke_sessions_and_unlock(self):
        self.add_user("erin@contoso.com")
        self.add_token("erin@contoso.com", "ERIN-1", SEED_A)
        self.sign_in(self.admin)
        self.open_user("erin@contoso.com")
        # Not locked: no Unlock to offer. The destructive actions look apart from the others.
        self.by_id("revoke-sessions")
        self.assertEqual(self.browser.find_elements(By.ID, "unlock"), [])
        for element_id in ("require-reregister", "revoke-sessions"):
            self.assertIn("danger", self.browser.find_element(By.ID, element_id)
                          .get_attribute("class").split(), element_id)
        self.assertNotIn("danger", self.browser.find_element(By.ID, "reset-password")
                         .get_attribute("class").split())
        self.by_id("revoke-sessions").click()
        self.confirm_dialog()
        self.text_appears("#user-result", "were revoked")
        for _ in range(5):  # the lockout's threshold of wrong codes
            self.daemon.verify("erin@contoso.com", "000000")
        self.browser.refresh()
        self.text_appears("#page h1", "Authentication methods")
        self.by_id("unlock").click()
        self.text_appears("#user-result", "is unlocked")
        audit = self.api("GET", "/v1.0/audit?target=user/erin@contoso.com")
        self.assertTrue(any("revoke" in a["action"].lower() for a in audit["value"]),
                        [a["action"] for a in audit["value"]])

    def test_manage_user_settings_deletes_app_passwords(self):
        users = ["fay@contoso.com", "gus@contoso.com", "hal@contoso.com"]
        for u in users + ["ivy@contoso.com"]:
            self.add_user(u)
            for n in range(2):
                self.api("POST", f"/v1.0/users/{u}/authentication/appPasswords",
                         {"displayName": f"mail {n}"})
        self.sign_in(self.admin, "#/mfa")
        for u in users:
            self.css(f"input[name=select-user][value='{u}']").click()
        self.text_appears("#page", "3 selected")
        self.by_id("manage-user-settings").click()
        self.css("input[name=delete-app-passwords]").click()
        self.css("form.panel button[type=submit]").click()
        self.text_appears("#mfa-results", "Deleted 2 app passwords")
        results = self.browser.find_element(By.ID, "mfa-results").text
        for u in users:
            self.assertIn(u, results)
        self.assertNotIn("ivy@contoso.com", results)
        self.screenshot("mfa-manage-user-settings")
        for u in users:
            left = self.api("GET", f"/v1.0/users/{u}/authentication/appPasswords")
            self.assertEqual(left["value"], [], u)
        left = self.api("GET", "/v1.0/users/ivy@contoso.com/authentication/appPasswords")
        self.assertEqual(len(left["value"]), 2)

    def test_reader_sees_no_actions_and_is_refused(self):
        self.add_user("jo@contoso.com")
        self.api("POST", "/v1.0/users/jo@contoso.com/authentication/phoneMethods",
                 {"phoneNumber": "+1 4255557788", "phoneType": "mobile"})
        self.sign_in(self.reader)
        self.open_user("jo@contoso.com")
        self.text_appears("#page table", "88")
        page = self.browser.find_element(By.ID, "page").text
        self.assertNotIn("4255557788", page)  # masked for a reader
        for element_id in ("reset-password", "require-reregister", "revoke-sessions", "unlock",
                           "add-method"):
            self.assertEqual(self.browser.find_elements(By.ID, element_id), [], element_id)
        self.assertEqual(self.browser.find_elements(By.CSS_SELECTOR, "#page table button"), [])
        self.screenshot("reader-user")
        self.browser.get(self.daemon.base + "/#/tokens")
        self.text_appears("#page h1", "Hardware OATH tokens")
        self.assertFalse(self.css("input[name=token-file]").is_enabled())
        self.text_appears("#upload-needs", "authentication_policy_administrator")
        # The page hides the buttons; the daemon refuses the call anyway.
        status = self.browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch('/v1.0/users/jo%40contoso.com/unlock', {method: 'POST',
                  headers: {'Authorization': 'Bearer ' + sessionStorage.getItem('otpd.apiKey'),
                            'Content-Type': 'application/json'}, body: '{}'})
              .then((r) => r.json().then((b) => done([r.status, b.error.code])))
              .catch((e) => done(['failed', String(e)]));""")
        self.assertEqual(status, [403, "accessDenied"])

    def test_audit_and_hooks_pages(self):
        for upn, name in (("kim@contoso.com", "Kim Akers"), ("lee@contoso.com", "Lee Gu"),
                          ("megan@contoso.com", "Megan Bowen")):
            self.add_user(upn, name)
        self.sign_in(self.admin, "#/users")
        self.text_appears("#users-results", "megan@contoso.com")
        self.css("input[name=prefix]").send_keys("le")
        self.css("form[role=search] button").click()
        self.wait.until(lambda d: "kim@" not in d.find_element(By.ID, "users-results").text)
        self.assertIn("lee@contoso.com", self.browser.find_element(By.ID, "users-results").text)
        self.css("input[name=prefix]").clear()
        self.css("form[role=search] button").click()
        self.text_appears("#users-results", "kim@contoso.com")
        self.screenshot("users")
        self.browser.set_window_size(390, 844)
        self.screenshot("users-phone-width")
        self.browser.set_window_size(1280, 800)
        self.browser.get(self.daemon.base + "/#/audit")
        self.text_appears("#page h1", "Audit log")
        self.css("input[name=target]").send_keys("user/kim@contoso.com")
        self.css("form.filters button[type=submit]").click()
        self.text_appears("#page table", "kim@contoso.com")
        self.screenshot("audit-target-filter")

    def test_hooks(self):
        self.add_user("nia@contoso.com")
        self.api("POST", "/v1.0/users/nia@contoso.com/authentication/phoneMethods",
                 {"phoneNumber": "+1 4255550199", "phoneType": "mobile"})
        deadline = time.time() + WAIT_SECONDS
        while time.time() < deadline:
            hooks = {k["name"]: k for k in self.api("GET", "/v1.0/admin/hooks")["value"]}
            if hooks.get("sms-gateway", {}).get("deadLetters"):
                break
            time.sleep(0.2)
        self.sign_in(self.admin, "#/hooks")
        self.text_appears("#page table", "directory-sync")
        self.text_appears("#page table", "sms-gateway")
        self.css("[aria-label='Actions for sms-gateway'] button").click()
        self.text_appears("#hooks-result", "method.added")
        # Redelivery is the owner's: an API key is never shown the button.
        buttons = self.browser.find_elements(By.CSS_SELECTOR, "#page table button")
        self.assertNotIn("Retry dead letters", [b.text for b in buttons])
        self.screenshot("hooks")


    # What each role allows, said where it is missing.

    def console_can(self):
        """The console's own answer, from its role table, for the signed-in key."""
        return self.browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            import('/console/js/roles.js').then((m) => done(Object.fromEntries(
              Object.entries(m.can).map(([k, f]) => [k, f()]))))
              .catch((e) => done(String(e)));""")

    def test_role_table_matches_the_daemon(self):
        # One key per role, and what the daemon answers each of them; the console must offer
        # exactly what the daemon allows.
        self.add_user("plain@contoso.com")
        self.api("POST", "/v1.0/users/plain@contoso.com/authentication/phoneMethods",
                 {"phoneNumber": "+1 4255550123", "phoneType": "mobile"})
        import base64
        for n, role in enumerate(("reader", "authentication_administrator",
                                  "privileged_authentication_administrator",
                                  "authentication_policy_administrator")):
            key = self.daemon.api_key(f"probe-{n}", role)
            status, _, _ = self.daemon.call(key, "PUT", f"/v1.0/users/new{n}@contoso.com",
                                            {"displayName": "New"})
            creates_users = status == 201
            status, _, _ = self.daemon.call(key, "POST", DEVICES, {
                "serialNumber": f"PROBE-{n}", "secretKey": base64.b32encode(SEED_A).decode()})
            uploads = status == 201
            status, _, _ = self.daemon.call(key, "POST", "/v1.0/users/plain@contoso.com/unlock",
                                            {})
            manages_methods = status == 200
            _, phones, _ = self.daemon.call(
                key, "GET", "/v1.0/users/plain@contoso.com/authentication/phoneMethods")
            full_phones = phones["value"][0]["phoneNumber"] == "+1 4255550123"
            self.browser.delete_all_cookies()
            self.sign_in(key, "#/users")
            can = self.console_can()
            self.assertEqual(
                (can.get("manageUsers"), can.get("manageInventory"), can.get("manageMethods"),
                 can.get("seeFullPhones"), can.get("manageHooks")),
                (creates_users, uploads, manages_methods, full_phones, False), (role, can))
            self.browser.execute_script("sessionStorage.clear()")

    def test_missing_roles_are_explained(self):
        self.add_user("lou@contoso.com")
        self.api("POST", DEVICES, {"serialNumber": "FREE-1",
                                   "secretKey": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"})
        self.sign_in(self.reader, "#/users")
        # No "New user" to use, but the reason is on the page.
        self.assertFalse(self.by_id("new-user").is_enabled())
        self.text_appears("#new-user-needs", "authentication_administrator")
        self.browser.get(self.daemon.base + "/#/tokens")
        self.text_appears("#token-list", "FREE-1")
        self.assertFalse(self.css("input[name=token-file]").is_enabled())
        self.assertFalse(self.css("#upload-title ~ button[type=submit], "
                                  "form.panel button[type=submit]").is_enabled())
        self.text_appears("#upload-needs", "authentication_policy_administrator")
        self.text_appears("#token-actions-needs", "authentication_policy_administrator")
        self.text_appears("#token-actions-needs", "authentication_administrator")
        self.screenshot("reader-tokens")
        self.browser.get(self.daemon.base + "/#/mfa")
        self.text_appears("#page h1", "Multifactor authentication")
        self.assertFalse(self.by_id("manage-user-settings").is_enabled())
        self.text_appears("#manage-needs", "authentication_administrator")

        # A policy administrator uploads and deletes, and is told what assigning takes.
        self.browser.execute_script("sessionStorage.clear()")
        policy = self.daemon.api_key("policy", "authentication_policy_administrator")
        self.sign_in(policy, "#/tokens")
        self.assertTrue(self.css("input[name=token-file]").is_enabled())
        self.assertEqual(self.browser.find_elements(By.ID, "upload-needs"), [])
        self.text_appears("[aria-label='Actions for FREE-1']", "Delete")
        self.text_appears("#token-actions-needs", "authentication_administrator")

    def test_administrator_user_needs_the_privileged_role(self):
        # A user who holds an administrative role: an authentication administrator may read them
        # but not change their methods, and the page says which role that takes.
        self.add_user("boss@contoso.com")
        self.daemon._otpctl("user", "roles", "boss@contoso.com", "authentication_administrator",
                            "--data-dir", self.daemon.data, "--key-file", self.daemon.key_file,
                            "--online")
        helpdesk = self.daemon.api_key("helpdesk", "authentication_administrator")
        status, _, _ = self.daemon.call(helpdesk, "POST", "/v1.0/users/boss@contoso.com/unlock",
                                        {})
        self.assertEqual(status, 403)
        self.sign_in(helpdesk)
        self.open_user("boss@contoso.com")
        self.text_appears("#methods-needs", "privileged_authentication_administrator")
        for element_id in ("reset-password", "require-reregister", "revoke-sessions",
                           "add-method"):
            self.assertEqual(self.browser.find_elements(By.ID, element_id), [], element_id)

    def test_new_user(self):
        self.add_user("old@contoso.com", "Old Name")
        helpdesk = self.daemon.api_key("helpdesk", "authentication_administrator")
        self.sign_in(helpdesk, "#/users")
        self.by_id("new-user").click()
        self.css("input[name=new-upn]").send_keys("nora@contoso.com")
        self.css("input[name=new-display-name]").send_keys("Nora Ito")
        self.css("#new-user-form button[type=submit]").click()
        self.text_appears("#new-user-result", "nora@contoso.com was created")
        user = self.api("GET", "/v1.0/users/nora@contoso.com")
        self.assertEqual(user["displayName"], "Nora Ito")
        self.screenshot("new-user")
        # A user who exists already is not changed by "New user".
        upn = self.css("input[name=new-upn]")
        upn.clear()
        upn.send_keys("old@contoso.com")
        name = self.css("input[name=new-display-name]")
        name.clear()
        name.send_keys("Overwritten")
        self.css("#new-user-form button[type=submit]").click()
        self.text_appears("#new-user-result", "already exists")
        self.assertEqual(self.api("GET", "/v1.0/users/old@contoso.com")["displayName"],
                         "Old Name")

    def test_mfa_page_says_who_has_no_methods(self):
        self.add_user("none@contoso.com")
        self.add_user("some@contoso.com")
        self.api("POST", "/v1.0/users/some@contoso.com/authentication/phoneMethods",
                 {"phoneNumber": "+1 4255550124", "phoneType": "mobile"})
        self.sign_in(self.admin, "#/mfa")
        self.text_appears("#page table", "none@contoso.com")
        cell = self.browser.find_element(
            By.XPATH, "//tr[td/a[.='none@contoso.com']]/td[@data-label='MFA registration']")
        self.assertNotEqual(cell.text, "Registered")
        self.assertIn("Not registered", cell.text)
        cell = self.browser.find_element(
            By.XPATH, "//tr[td/a[.='some@contoso.com']]/td[@data-label='MFA registration']")
        self.assertEqual(cell.text, "Registered")

    def test_phone_form_defaults_to_a_free_type(self):
        self.add_user("pia@contoso.com")
        self.api("POST", "/v1.0/users/pia@contoso.com/authentication/phoneMethods",
                 {"phoneNumber": "+1 4255550125", "phoneType": "mobile"})
        self.sign_in(self.admin)
        self.open_user("pia@contoso.com")
        self.by_id("add-method").click()
        self.assertEqual(Select(self.css("select[name=phone-type]")).first_selected_option
                         .get_attribute("value"), "alternateMobile")

    def test_audit_newest_first_and_readable(self):
        # More records than one screen holds, the newest last written.
        for n in range(60):
            self.add_user(f"a{n:02d}@contoso.com")
        self.api("POST", "/v1.0/users/a59@contoso.com/authentication/phoneMethods",
                 {"phoneNumber": "+1 4255550126", "phoneType": "mobile"})
        self.sign_in(self.admin, "#/audit")
        self.text_appears("#page table", "a59@contoso.com")
        action = self.css("input[name=action]")
        self.assertEqual(action.get_attribute("placeholder"), "token.activate")
        rows = self.browser.find_elements(By.CSS_SELECTOR, "#audit-list tbody tr")
        first = rows[0].find_element(By.CSS_SELECTOR, "td[data-label=Target]").text
        self.assertEqual(first, "user/a59@contoso.com", "newest first")
        times = [r.find_element(By.CSS_SELECTOR, "td[data-label=When]").text for r in rows]
        self.assertEqual(times, sorted(times, reverse=True))
        # A page, not every record at once; older ones on request.
        self.assertLessEqual(len(rows), 50)
        self.screenshot("audit")
        self.by_id("audit-older").click()
        self.wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR,
                                                      "#audit-list tbody tr")) > len(rows))
        # At 1280 px: every column inside the table's frame, a date on one line.
        fits = self.browser.execute_script("""
            const wrap = document.querySelector('#audit-list .table-wrap');
            const when = document.querySelector('#audit-list td[data-label=When]');
            const line = parseFloat(getComputedStyle(when).lineHeight) || 20;
            return [wrap.scrollWidth <= wrap.clientWidth, when.clientHeight < 2 * line + 16];""")
        self.assertEqual(fits, [True, True])
        # A subject alone finds every action on it.
        action.send_keys("user")
        self.css("form.filters button[type=submit]").click()
        def actions(d):
            return set(d.execute_script(
                "return [...document.querySelectorAll('#audit-list td[data-label=Action]')]"
                ".map((td) => td.textContent)"))
        self.wait.until(lambda d: actions(d) and all(a.startswith("user.") for a in actions(d)))
        self.assertIn("user.create", actions(self.browser))
        self.browser.set_window_size(390, 844)
        self.screenshot("audit-phone-width")


if __name__ == "__main__":
    unittest.main()
