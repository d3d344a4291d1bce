#!/usr/bin/env python3
"""Turns the first N rows of an `otpctl seed-load` token file (`user,seed_hex,counter`) into a
signin_driver.py job file (`user<TAB>code`, the code at the row's counter). Nothing is printed."""
import hashlib
import hmac
import os
import struct
import sys


def hotp(key, counter, digits=6):
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def main():
    tokens, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(tokens) as f, os.fdopen(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                                      "w") as jobs:
        header = f.readline().strip().split(",")
        assert header[0] == "user", header
        for i, line in enumerate(f):
            if i >= n:
                break
            user, seed_hex, counter = line.strip().split(",")[:3]
            jobs.write("%s\t%s\n" % (user, hotp(bytes.fromhex(seed_hex), int(counter))))


if __name__ == "__main__":
    main()
