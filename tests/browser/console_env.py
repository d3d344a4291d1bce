"""A real otpd for the console's browser tests: a temporary data directory made with
`otpctl init`, the daemon with a verify socket and a loopback admin listener on an ephemeral
port, API keys from `otpctl apikey create`, and headless Chromium driven by Selenium.

Paths come from the environment (set by CTest, tests/browser/CMakeLists.txt): OTPD, OTPCTL and
ARTIFACTS (where screenshots go). Secrets (API keys, seeds, codes, passwords) are never printed.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

WAIT_SECONDS = 20


def totp(secret: bytes, at: float | None = None, step: int = 30, digits: int = 6,
         digest=hashlib.sha1) -> str:
    """RFC 6238 TOTP over RFC 4226's dynamic truncation."""
    counter = int((time.time() if at is None else at) // step)
    return hotp(secret, counter, digits, digest)


def hotp(secret: bytes, counter: int, digits: int = 6, digest=hashlib.sha1) -> str:
    mac = hmac.new(secret, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % (10 ** digits)).zfill(digits)


def b32decode(text: str) -> bytes:
    text = text.upper().replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def fresh_totp(secret: bytes) -> str:
    """A code with at least 3 s left in its step, so it is still current when it arrives."""
    if 30 - time.time() % 30 < 3:
        time.sleep(30 - time.time() % 30 + 0.2)
    return totp(secret)


class Daemon:
    """otpd in a temporary directory; stop() kills it and removes the directory."""

    def __init__(self, otpd: str, otpctl: str, config: str = ""):
        self.config = config
        self.otpd = otpd
        self.otpctl = otpctl
        self.dir = tempfile.mkdtemp(prefix="otpd-console-")
        self.data = os.path.join(self.dir, "data")
        self.key_file = os.path.join(self.dir, "data.key")
        self.verify_socket = os.path.join(self.data, "verify.sock")
        self.proc = None
        self.log = []
        self.admin_port = 0
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("OTPD_MASTER_KEY") and k != "OTPD_KEY_FILE"}

    def _otpctl(self, *args: str) -> str:
        r = subprocess.run([self.otpctl, *args], env=self.env, capture_output=True, text=True,
                           timeout=60, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"otpctl {args[0]} {args[1] if len(args) > 1 else ''} failed: "
                               f"{r.stderr.strip()[:400]}")
        return r.stdout

    def start(self) -> None:
        self._otpctl("init", "--data-dir", self.data, "--key-file", self.key_file)
        args = [self.otpd, "--data-dir", self.data, "--key-file", self.key_file, "--socket",
                self.verify_socket, "--admin-listen", "127.0.0.1:0"]
        if self.config:
            path = os.path.join(self.dir, "otpd.toml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.config)
            args += ["--config", path]
        self.proc = subprocess.Popen(
            args,
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        started = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.log.append(line)
                m = re.search(r"admin_port=(\d+)", line)
                if m and not started.is_set():
                    self.admin_port = int(m.group(1))
                    started.set()
            started.set()

        threading.Thread(target=read, daemon=True).start()
        if not started.wait(WAIT_SECONDS) or not self.admin_port:
            self.stop()
            raise RuntimeError("otpd did not start:\n" + "".join(self.log[-30:]))

    def wait_log(self, pattern: str) -> re.Match:
        """The first match of `pattern` in the daemon's log, waiting for it to be logged."""
        deadline = time.time() + WAIT_SECONDS
        while time.time() < deadline:
            for line in list(self.log):
                m = re.search(pattern, line)
                if m:
                    return m
            time.sleep(0.05)
        raise RuntimeError(f"otpd never logged {pattern!r}:\n" + "".join(self.log[-30:]))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def api_key(self, name: str, *roles: str) -> str:
        out = os.path.join(self.dir, name + ".key")
        args = ["apikey", "create", name, "--out", out, "--data-dir", self.data, "--key-file",
                self.key_file, "--online"]
        for r in roles:
            args += ["--role", r]
        self._otpctl(*args)
        with open(out, encoding="utf-8") as f:
            return f.read().strip()

    def call(self, key: str, method: str, path: str, body=None, headers=None):
        """(status, parsed JSON or None, headers) of an admin API call over TCP."""
        data = None
        h = {"Authorization": "Bearer " + key}
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=WAIT_SECONDS) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None), r.headers
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            return e.code, parsed, e.headers

    def verify(self, user: str, code: str) -> str:
        """One VERIFY over the Unix verify socket (no HELLO needed there); the reply line."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(WAIT_SECONDS)
            s.connect(self.verify_socket)
            s.sendall(f"VERIFY\tv1\tuser={user}\totp={code}\n".encode())
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
            return reply.decode().strip()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(WAIT_SECONDS)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def make_browser(width: int = 1280, height: int = 800):
    """Headless Chromium through chromedriver; None when they are not installed."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (os.path.exists(chromium) and os.path.exists(driver)):
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--no-first-run", "--disable-extensions",
                "--password-store=basic"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_page_load_timeout(WAIT_SECONDS)
    browser.set_script_timeout(WAIT_SECONDS)
    return browser


class PageSteps:
    """What both pages' tests do in the browser. The test sets self.browser, self.wait and
    SCREENSHOT_PREFIX ("console", "selfservice"); screenshots go to $ARTIFACTS."""

    SCREENSHOT_PREFIX = "page"

    def screenshot(self, name):
        artifacts = os.environ.get("ARTIFACTS", os.getcwd())
        os.makedirs(artifacts, exist_ok=True)
        self.browser.save_screenshot(
            os.path.join(artifacts, f"{self.SCREENSHOT_PREFIX}-{name}.png"))

    def by_id(self, element_id):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        return self.wait.until(EC.visibility_of_element_located((By.ID, element_id)))

    def css(self, selector):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))

    def text_appears(self, selector, text):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        self.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))
