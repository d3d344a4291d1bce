// One question to otpd over its Unix verify socket (docs/protocol.md): connect, send HELLO and one
// VERIFY or PASSWORD request in one write, and read replies, matched by id, until the request's
// answer is known or the deadline passes. Plain C, no PAM, no allocation.

#ifndef OTPD_PAM_OTPD_CLIENT_H_
#define OTPD_PAM_OTPD_CLIENT_H_

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// The longest user name and password (in bytes, before escaping) that are sent. Escaped, both
// together stay well inside otpd's 4096-byte line.
#define OTPD_MAX_USER 512
#define OTPD_MAX_PASSWORD 512

typedef enum {
  kOtpdOk,     // OK for the request (and the HELLO was answered OK, version=1)
  kOtpdFail,   // FAIL for the request; `reason` says why
  kOtpdError,  // no usable answer: no connection, timeout, closed early, malformed; see `error`
} OtpdAnswerKind;

typedef struct {
  OtpdAnswerKind kind;
  // FAIL: the reason, or "" when it was missing or too long to be one otpd sends.
  char reason[32];
  // locked: retry_after in seconds; -1 when absent or not a number.
  long retry_after;
  // OK to PASSWORD: must_change 1 or 0; -1 when absent; 2 for any other value.
  int must_change;
  // OK to ENROL: the new app's method id and its otpauth:// URI ("" when absent or too long).
  // The URI holds the app's secret: the caller wipes the answer when done (OtpdWipe).
  char method[64];
  char uri[640];
  // kOtpdError: what went wrong, for the log (never a secret).
  char error[160];
} OtpdAnswer;

typedef struct {
  const char* key;
  const char* value;  // escaped here
} OtpdField;

// Asks `verb` (VERIFY, PASSWORD) with `fields` on the Unix socket at `socket_path`; connecting
// and the whole exchange take at most `timeout_ms`. Fills `answer`. Any buffer that held a field
// value is wiped before returning.
void OtpdAsk(const char* socket_path, int timeout_ms, const char* verb, const OtpdField* fields,
             size_t field_count, OtpdAnswer* answer);

// Wipes what an answer may hold of a secret (the enrolment's URI).
void OtpdWipe(OtpdAnswer* answer);

// Whether `value` can be sent as a protocol value: 1..`max` bytes and no control character
// other than TAB and LF (those are escaped; the protocol cannot carry the others).
bool OtpdSendable(const char* value, size_t max);

#ifdef __cplusplus
}
#endif

#endif  // OTPD_PAM_OTPD_CLIENT_H_
