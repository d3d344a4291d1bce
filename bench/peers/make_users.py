#!/usr/bin/env python3
"""Creates N throwaway HOTP users for the PAM modules in DIR (mode 0600 files):
  DIR/users.oath          pam_oath usersfile (`HOTP user - hexseed`, counter 0)
  DIR/ga/<user>           pam_google_authenticator secret files (HOTP_COUNTER 1)
  DIR/oath.jobs, ga.jobs  `user<TAB>code`: the next valid code of each user, for signin_driver.py
Seeds are random; nothing is printed.
"""
import base64
import hashlib
import hmac
import os
import secrets
import struct
import sys


def hotp(key, counter, digits=6):
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def private(path):
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(os.path.join(out, "ga"), mode=0o700, exist_ok=True)
    with private(os.path.join(out, "users.oath")) as users, \
            private(os.path.join(out, "oath.jobs")) as oath_jobs, \
            private(os.path.join(out, "ga.jobs")) as ga_jobs:
        for i in range(n):
            user = "peer%d" % i
            key = secrets.token_bytes(20)
            users.write("HOTP\t%s\t-\t%s\n" % (user, key.hex()))
            oath_jobs.write("%s\t%s\n" % (user, hotp(key, 0)))
            key2 = secrets.token_bytes(20)
            with private(os.path.join(out, "ga", user)) as f:
                f.write(base64.b32encode(key2).decode() + '\n" HOTP_COUNTER 1\n" WINDOW_SIZE 3\n')
            ga_jobs.write("%s\t%s\n" % (user, hotp(key2, 1)))


if __name__ == "__main__":
    main()
