// Codes for activations and sign-ins: RFC 4226 HOTP (dynamic truncation) and RFC 6238 TOTP over
// node:crypto, and the Base32 of Graph's secretKey (RFC 4648, no padding).

import crypto from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes) {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

// A new random seed: its bytes (to compute codes) and its Base32 (to send as secretKey).
export function newSeed(size = 20) {
  const bytes = crypto.randomBytes(size);
  return { bytes, base32: base32(bytes) };
}

export function hotp(seed, counter, { digits = 6, hash = 'sha1' } = {}) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = crypto.createHmac(hash, seed).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(value % 10 ** digits).padStart(digits, '0');
}

export function totp(seed, { step = 30, at = Date.now() / 1000, ...options } = {}) {
  return hotp(seed, Math.floor(at / step), options);
}

// A TOTP code with at least 3 s left in its step, so that it is still current when it arrives.
export async function freshTotp(seed, options = {}) {
  const step = options.step ?? 30;
  const left = step - ((Date.now() / 1000) % step);
  if (left < 3) await new Promise((resolve) => setTimeout(resolve, (left + 0.2) * 1000));
  return totp(seed, options);
}
