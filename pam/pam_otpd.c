// pam_otpd: a PAM auth module that asks otpd whether a user's one-time code (or, with
// `password`, the user's otpd password) is right, over otpd's Unix verify socket. docs/pam.md
// describes the options and what each answer becomes. Every path that is not an explicit OK from
// otpd ends in a failure code: there is no fail-open.

#define _GNU_SOURCE
#include <qrencode.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "pam/otpd_client.h"

#define OTPD_EXPORT __attribute__((visibility("default")))

static const char kDefaultSocket[] = "/run/otpd/verify.sock";
static const int kDefaultTimeoutMs = 3000;
static const long kMaxTimeoutMs = 60000;

// Registration at sign-in for a user otpd says must register (docs/pam.md, "Registering"): after
// a temporary access pass the module asks for, or after the earlier modules of the stack, which
// the administrator names as the first factor by choosing `register=stack` (otpd must allow it
// too: [actions] registration_without_tap).
typedef enum { kRegisterNone, kRegisterTap, kRegisterStack } RegisterMode;

typedef struct {
  const char* socket_path;
  int timeout_ms;
  bool debug;
  bool use_first_pass;
  bool try_first_pass;
  bool nomethod_ignore;
  bool password_mode;
  RegisterMode register_mode;
  // Appended as "@domain" to a login name without '@' (NULL: the name is sent as given).
  const char* domain;
} Options;

static bool StartsWith(const char* text, const char* prefix, const char** rest) {
  size_t n = strlen(prefix);
  if (strncmp(text, prefix, n) != 0) return false;
  *rest = text + n;
  return true;
}

// A domain for domain=: dot-separated labels of letters, digits and '-', at least two labels, at
// most 253 bytes. Anything else (an '@', spaces, a trailing dot) is a configuration error.
static bool ValidDomain(const char* d) {
  size_t n = strlen(d), label = 0, labels = 1;
  if (n == 0 || n > 253) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = d[i];
    if (c == '.') {
      if (label == 0 || i + 1 == n) return false;
      label = 0;
      ++labels;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return labels >= 2;
}

// False (and a log line) for an unknown option or a bad value: a module whose configuration is
// not understood refuses, it does not guess.
static bool ParseOptions(pam_handle_t* pamh, int argc, const char** argv, Options* o) {
  *o = (Options){.socket_path = kDefaultSocket, .timeout_ms = kDefaultTimeoutMs};
  for (int i = 0; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = NULL;
    if (strcmp(arg, "debug") == 0) {
      o->debug = true;
    } else if (strcmp(arg, "use_first_pass") == 0) {
      o->use_first_pass = true;
    } else if (strcmp(arg, "try_first_pass") == 0) {
      o->try_first_pass = true;
    } else if (strcmp(arg, "password") == 0) {
      o->password_mode = true;
    } else if (strcmp(arg, "nomethod=ignore") == 0) {
      o->nomethod_ignore = true;
    } else if (strcmp(arg, "nomethod=fail") == 0) {
      o->nomethod_ignore = false;
    } else if (strcmp(arg, "register=tap") == 0) {
      o->register_mode = kRegisterTap;
    } else if (strcmp(arg, "register=stack") == 0) {
      o->register_mode = kRegisterStack;
    } else if (strcmp(arg, "register=none") == 0) {
      o->register_mode = kRegisterNone;
    } else if (StartsWith(arg, "socket=", &value)) {
      if (value[0] != '/' || !OtpdSendable(value, 107)) {
        pam_syslog(pamh, LOG_ERR, "socket= needs an absolute path of at most 107 bytes");
        return false;
      }
      o->socket_path = value;
    } else if (StartsWith(arg, "domain=", &value)) {
      if (!ValidDomain(value)) {
        pam_syslog(pamh, LOG_ERR,
                   "domain= needs a DNS domain such as example.com (letters, digits, '-', '.')");
        return false;
      }
      o->domain = value;
    } else if (StartsWith(arg, "timeout_ms=", &value)) {
      char* end = NULL;
      long ms = strtol(value, &end, 10);
      if (*value == '\0' || *end != '\0' || ms < 1 || ms > kMaxTimeoutMs) {
        pam_syslog(pamh, LOG_ERR, "timeout_ms= must be 1..%ld", kMaxTimeoutMs);
        return false;
      }
      o->timeout_ms = (int)ms;
    } else {
      pam_syslog(pamh, LOG_ERR, "unknown option '%.64s'", arg);
      return false;
    }
  }
  return true;
}

// A user name made safe for one log line: control characters become '?', long names are cut.
static void LogSafe(const char* text, char* out, size_t cap) {
  size_t i = 0;
  for (; text[i] != '\0' && i + 1 < cap; ++i) {
    unsigned char c = (unsigned char)text[i];
    out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
  }
  out[i] = '\0';
}

// A message for the user through the conversation, unless the application asked for silence.
static void Tell(pam_handle_t* pamh, int flags, const char* format, ...) {
  if (flags & PAM_SILENT) return;
  va_list args;
  va_start(args, format);
  pam_verror(pamh, format, args);
  va_end(args);
}

static bool IsCode(const char* text) {
  size_t n = 0;
  for (; text[n] != '\0'; ++n) {
    if (text[n] < '0' || text[n] > '9' || n >= 9) return false;
  }
  return n >= 6;
}

static bool HasLetter(const char* text) {
  for (; *text != '\0'; ++text) {
    if ((*text >= 'A' && *text <= 'Z') || (*text >= 'a' && *text <= 'z')) return true;
  }
  return false;
}

static bool WellFormed(const Options* o, const char* secret) {
  return o->password_mode ? OtpdSendable(secret, OTPD_MAX_PASSWORD) : IsCode(secret);
}

// Copies `source` into `out`; a source that does not fit is cut to cap - 1 bytes, which is longer
// than any well-formed secret, so it is then refused as malformed.
static void CopySecret(const char* source, char* out, size_t cap) {
  size_t n = strnlen(source, cap - 1);
  memcpy(out, source, n);
  out[n] = '\0';
}

// Asks for a hidden answer (a pass, a code) into `out`; PAM_CONV_ERR when none came.
static int AskHidden(pam_handle_t* pamh, const char* prompt, char* out, size_t cap) {
  char* response = NULL;
  int rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &response, "%s", prompt);
  if (rc != PAM_SUCCESS || response == NULL) {
    if (response != NULL) {
      explicit_bzero(response, strlen(response));
      free(response);
    }
    return PAM_CONV_ERR;
  }
  CopySecret(response, out, cap);
  explicit_bzero(response, strlen(response));
  free(response);
  return PAM_SUCCESS;
}

// The code (or password) to check, into `out`: PAM_AUTHTOK from an earlier module with
// use_first_pass / try_first_pass, otherwise asked for through the conversation.
static int ObtainSecret(pam_handle_t* pamh, const Options* o, const char* user_for_log, char* out,
                        size_t cap) {
  if (o->use_first_pass || o->try_first_pass) {
    const void* item = NULL;
    if (pam_get_item(pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS && item != NULL &&
        *(const char*)item != '\0') {
      // try_first_pass asks when the earlier module's token is not a code at all (it was meant
      // for another module); use_first_pass never asks.
      if (o->use_first_pass || WellFormed(o, (const char*)item)) {
        CopySecret((const char*)item, out, cap);
        return PAM_SUCCESS;
      }
    } else if (o->use_first_pass) {
      pam_syslog(pamh, LOG_NOTICE, "user %s: use_first_pass, but no earlier module set a %s",
                 user_for_log, o->password_mode ? "password" : "code");
      return PAM_AUTH_ERR;
    }
  }
  int rc = AskHidden(pamh, o->password_mode ? "Password: " : "Verification code: ", out, cap);
  if (rc != PAM_SUCCESS) {
    pam_syslog(pamh, LOG_NOTICE, "user %s: the conversation gave no %s", user_for_log,
               o->password_mode ? "password" : "code");
    return rc;
  }
  // A password asked for here is offered to the modules after this one, as pam_unix does; a
  // one-time code is not (it is of no use to anyone else).
  if (o->password_mode && WellFormed(o, out)) pam_set_item(pamh, PAM_AUTHTOK, out);
  return PAM_SUCCESS;
}

static bool ReasonIs(const OtpdAnswer* a, const char* reason) {
  return strcmp(a->reason, reason) == 0;
}

static void TellLocked(pam_handle_t* pamh, int flags, const OtpdAnswer* a) {
  if (a->retry_after > 0) {
    Tell(pamh, flags, "Too many failed attempts; try again in %ld seconds.", a->retry_after);
  } else {
    Tell(pamh, flags, "Too many failed attempts; try again later.");
  }
}

// What a VERIFY answer means for PAM (docs/pam.md, "What otpd's answers become").
static int MapVerify(pam_handle_t* pamh, int flags, const Options* o, const OtpdAnswer* a) {
  if (a->kind == kOtpdOk) return PAM_SUCCESS;
  if (a->kind != kOtpdFail) {
    Tell(pamh, flags, "The verification service is unavailable; try again later.");
    return PAM_AUTHINFO_UNAVAIL;
  }
  if (ReasonIs(a, "bad_code")) {
    Tell(pamh, flags, "Wrong verification code.");
    return PAM_AUTH_ERR;
  }
  if (ReasonIs(a, "replayed")) {
    Tell(pamh, flags, "That code was already used; wait for the next one.");
    return PAM_AUTH_ERR;
  }
  if (ReasonIs(a, "drift")) {
    Tell(pamh, flags,
         "That code is far out of step with the server; ask your administrator to resynchronise "
         "your token.");
    return PAM_AUTH_ERR;
  }
  if (ReasonIs(a, "locked")) {
    TellLocked(pamh, flags, a);
    return PAM_MAXTRIES;
  }
  if (ReasonIs(a, "registration_required") || ReasonIs(a, "no_method")) {
    if (o->nomethod_ignore) return PAM_IGNORE;
    Tell(pamh, flags,
         ReasonIs(a, "no_method")
             ? "No verification method is set up for your account."
             : "You must register a verification method again before you can sign in.");
    return PAM_AUTH_ERR;
  }
  if (ReasonIs(a, "not_activated")) {
    Tell(pamh, flags, "Your token is not activated.");
    return PAM_AUTH_ERR;
  }
  if (ReasonIs(a, "unknown_user")) return PAM_USER_UNKNOWN;
  if (ReasonIs(a, "bad_request")) return PAM_AUTH_ERR;
  // unavailable, unauthorized, and any reason this module does not know.
  Tell(pamh, flags, "The verification service is unavailable; try again later.");
  return PAM_AUTHINFO_UNAVAIL;
}

// What a PASSWORD answer means for PAM.
static int MapPassword(pam_handle_t* pamh, int flags, const OtpdAnswer* a) {
  if (a->kind == kOtpdOk) {
    if (a->must_change == -1 || a->must_change == 0) return PAM_SUCCESS;
    if (a->must_change == 1) {
      Tell(pamh, flags, "Your password has expired; it must be changed.");
      return PAM_NEW_AUTHTOK_REQD;
    }
  } else if (a->kind == kOtpdFail) {
    if (ReasonIs(a, "bad_password")) {
      Tell(pamh, flags, "Wrong password.");
      return PAM_AUTH_ERR;
    }
    if (ReasonIs(a, "locked")) {
      TellLocked(pamh, flags, a);
      return PAM_MAXTRIES;
    }
    if (ReasonIs(a, "unknown_user")) return PAM_USER_UNKNOWN;
    if (ReasonIs(a, "bad_request")) return PAM_AUTH_ERR;
  }
  Tell(pamh, flags, "The verification service is unavailable; try again later.");
  return PAM_AUTHINFO_UNAVAIL;
}

// Whether the QR module at (x, y) of a code drawn with a `quiet`-module margin is light.
static bool Light(const QRcode* qr, int x, int y, int quiet) {
  x -= quiet;
  y -= quiet;
  if (x < 0 || y < 0 || x >= qr->width || y >= qr->width) return true;
  return (qr->data[y * qr->width + x] & 1) == 0;
}

// Shows `text` as a QR code drawn with UTF-8 half blocks, two modules a character high, light
// modules as blocks (as qrencode -t UTF8 draws them, for terminals with a dark background). The
// lowest error correction keeps an otpauth URI to about 45 characters by 23 lines, inside an
// 80x24 terminal. One message per line: no line is longer than a conversation takes.
static bool ShowQr(pam_handle_t* pamh, int flags, const char* text) {
  if (flags & PAM_SILENT) return false;
  QRcode* qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
  if (qr == NULL) return false;
  const int quiet = 2, size = qr->width + 2 * quiet;
  const size_t cap = (size_t)size * 3 + 1;
  char* line = malloc(cap);
  if (line == NULL) {
    QRcode_free(qr);
    return false;
  }
  for (int y = 0; y < size; y += 2) {
    size_t n = 0;
    for (int x = 0; x < size; ++x) {
      const bool top = Light(qr, x, y, quiet);
      const bool bottom = y + 1 < size && Light(qr, x, y + 1, quiet);
      const char* glyph = top && bottom ? "\xe2\x96\x88"  // full block
                          : top         ? "\xe2\x96\x80"  // upper half block
                          : bottom      ? "\xe2\x96\x84"  // lower half block
                                        : " ";
      const size_t g = strlen(glyph);
      memcpy(line + n, glyph, g);
      n += g;
    }
    line[n] = '\0';
    pam_info(pamh, "%s", line);
  }
  // The code holds the app's secret.
  explicit_bzero(line, cap);
  free(line);
  explicit_bzero(qr->data, (size_t)qr->width * (size_t)qr->width);
  QRcode_free(qr);
  return true;
}

// What a refused ENROL or CONFIRM means for PAM.
static int MapRegistration(pam_handle_t* pamh, int flags, const OtpdAnswer* a) {
  if (a->kind == kOtpdFail) {
    if (ReasonIs(a, "bad_password")) {
      Tell(pamh, flags, "Wrong temporary access pass.");
      return PAM_AUTH_ERR;
    }
    if (ReasonIs(a, "expired") || ReasonIs(a, "not_yet_valid")) {
      Tell(pamh, flags, "That temporary access pass is not valid now; ask your administrator.");
      return PAM_AUTH_ERR;
    }
    if (ReasonIs(a, "tap_required")) {
      Tell(pamh, flags, "Registering needs a temporary access pass; ask your administrator.");
      return PAM_AUTH_ERR;
    }
    if (ReasonIs(a, "bad_code")) {
      Tell(pamh, flags, "Wrong code; the app is not registered. Sign in again to start over.");
      return PAM_AUTH_ERR;
    }
    if (ReasonIs(a, "locked")) {
      TellLocked(pamh, flags, a);
      return PAM_MAXTRIES;
    }
    if (ReasonIs(a, "refused") || ReasonIs(a, "no_method")) {
      Tell(pamh, flags, "The app could not be registered; ask your administrator.");
      return PAM_AUTH_ERR;
    }
    if (ReasonIs(a, "unknown_user")) return PAM_USER_UNKNOWN;
  }
  Tell(pamh, flags, "The verification service is unavailable; try again later.");
  return PAM_AUTHINFO_UNAVAIL;
}

// Registers an authenticator app for `user`, whom otpd asked to register: ENROL (with a pass the
// user types, or after the stack's earlier modules), the app's QR code and link shown, its first
// code read and CONFIRMed. Success signs the user in: the pass (or the stack) was the first
// factor, the new app's code the second.
static int Register(pam_handle_t* pamh, int flags, const Options* o, const char* user,
                    const char* log_user, const char* given_pass) {
  char pass[OTPD_MAX_PASSWORD + 2] = "";
  if (given_pass != NULL) {
    CopySecret(given_pass, pass, sizeof(pass));
  } else if (o->register_mode == kRegisterTap) {
    pam_info(pamh, "You must register an authenticator app before you can sign in.");
    int rc = AskHidden(pamh, "Temporary access pass: ", pass, sizeof(pass));
    if (rc != PAM_SUCCESS || !OtpdSendable(pass, OTPD_MAX_PASSWORD)) {
      explicit_bzero(pass, sizeof(pass));
      pam_syslog(pamh, LOG_NOTICE, "user %s: registration: no temporary access pass", log_user);
      return rc != PAM_SUCCESS ? rc : PAM_AUTH_ERR;
    }
  }
  // at_sign_in: otpd applies its rule of who may register at a sign-in (a user asked to register
  // again, or without a second factor) before it checks the pass.
  const OtpdField enrol[] = {{.key = "user", .value = user},
                             {.key = "at_sign_in", .value = "1"},
                             {.key = "tap", .value = pass}};
  OtpdAnswer a;
  OtpdAsk(o->socket_path, o->timeout_ms, "ENROL", enrol, pass[0] != '\0' ? 3 : 2, &a);
  explicit_bzero(pass, sizeof(pass));
  if (a.kind != kOtpdOk || a.uri[0] == '\0' || a.method[0] == '\0') {
    OtpdWipe(&a);
    int rc = MapRegistration(pamh, flags, &a);
    pam_syslog(pamh, LOG_NOTICE, "user %s: registration refused (%s)", log_user,
               a.kind == kOtpdFail    ? a.reason
               : a.kind == kOtpdError ? a.error
                                      : "no link");
    return rc;
  }
  char method[sizeof(a.method)];
  memcpy(method, a.method, sizeof(method));
  pam_info(pamh, "Scan this QR code with your authenticator app:");
  ShowQr(pamh, flags, a.uri);
  pam_info(pamh, "Or open this link on the phone: %s", a.uri);
  OtpdWipe(&a);

  char code[16];
  int rc = AskHidden(pamh, "Code from the app: ", code, sizeof(code));
  if (rc != PAM_SUCCESS || !IsCode(code)) {
    explicit_bzero(code, sizeof(code));
    if (rc == PAM_SUCCESS) Tell(pamh, flags, "A verification code has 6 to 9 digits.");
    return rc != PAM_SUCCESS ? rc : PAM_AUTH_ERR;
  }
  const OtpdField confirm[] = {{.key = "user", .value = user},
                               {.key = "method", .value = method},
                               {.key = "otp", .value = code}};
  OtpdAsk(o->socket_path, o->timeout_ms, "CONFIRM", confirm, 3, &a);
  explicit_bzero(code, sizeof(code));
  if (a.kind == kOtpdOk) {
    pam_info(pamh, "Your authenticator app is registered.");
    pam_syslog(pamh, LOG_INFO, "user %s: registered an authenticator app", log_user);
    return PAM_SUCCESS;
  }
  rc = MapRegistration(pamh, flags, &a);
  pam_syslog(pamh, LOG_NOTICE, "user %s: registration not confirmed (%s)", log_user,
             a.kind == kOtpdFail ? a.reason : a.error);
  return rc;
}

static long long ElapsedMs(const struct timespec* since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

// One log line per sign-in: the user and the outcome, never the code or the password.
static void LogOutcome(pam_handle_t* pamh, const Options* o, const char* user, int rc,
                       const OtpdAnswer* a, long long ms) {
  const char* what = o->password_mode ? "password" : "code";
  const int level = rc == PAM_SUCCESS                                     ? LOG_INFO
                    : rc == PAM_AUTHINFO_UNAVAIL || a->kind == kOtpdError ? LOG_ERR
                                                                          : LOG_NOTICE;
  if (a->kind == kOtpdOk) {
    pam_syslog(pamh, level, "user %s: %s accepted%s", user, what,
               rc == PAM_NEW_AUTHTOK_REQD ? ", must change" : "");
  } else if (a->kind == kOtpdFail) {
    char reason[sizeof(a->reason)];
    LogSafe(a->reason[0] != '\0' ? a->reason : "(none)", reason, sizeof(reason));
    if (a->retry_after >= 0) {
      pam_syslog(pamh, level, "user %s: %s refused, reason=%s retry_after=%ld (%s)", user, what,
                 reason, a->retry_after, pam_strerror(pamh, rc));
    } else {
      pam_syslog(pamh, level, "user %s: %s refused, reason=%s (%s)", user, what, reason,
                 pam_strerror(pamh, rc));
    }
  } else {
    pam_syslog(pamh, level, "user %s: otpd gave no answer: %s", user, a->error);
  }
  if (o->debug) {
    pam_syslog(pamh, LOG_DEBUG, "user %s: socket %s, %lld ms of timeout_ms=%d", user,
               o->socket_path, ms, o->timeout_ms);
  }
}

OTPD_EXPORT int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
  Options o;
  if (!ParseOptions(pamh, argc, argv, &o)) return PAM_SERVICE_ERR;
  const char* user = NULL;
  int rc = pam_get_user(pamh, &user, NULL);
  if (rc != PAM_SUCCESS || user == NULL || *user == '\0') {
    pam_syslog(pamh, LOG_NOTICE, "no user name");
    return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc != PAM_SUCCESS ? rc : PAM_USER_UNKNOWN;
  }
  char log_user[128];
  LogSafe(user, log_user, sizeof(log_user));
  // otpd names users by address (UPN); a login name such as sshd and sudo give becomes one with
  // domain=. Without it the name goes as given (otpd answers unknown_user for a bare name).
  char upn[OTPD_MAX_USER + 1];
  if (strchr(user, '@') == NULL && o.domain != NULL) {
    int n = snprintf(upn, sizeof(upn), "%s@%s", user, o.domain);
    if (n < 0 || (size_t)n >= sizeof(upn)) {
      pam_syslog(pamh, LOG_NOTICE, "user %s: the name is too long", log_user);
      return PAM_USER_UNKNOWN;
    }
    user = upn;
    LogSafe(user, log_user, sizeof(log_user));
  }
  if (!OtpdSendable(user, OTPD_MAX_USER)) {
    pam_syslog(pamh, LOG_NOTICE, "user %s: the name cannot be sent to otpd", log_user);
    return PAM_USER_UNKNOWN;
  }

  char secret[OTPD_MAX_PASSWORD + 2];
  rc = ObtainSecret(pamh, &o, log_user, secret, sizeof(secret));
  if (rc != PAM_SUCCESS) {
    explicit_bzero(secret, sizeof(secret));
    return rc;
  }
  // With register=tap, a temporary access pass typed at the code prompt starts a registration:
  // a pass always holds a letter, a code never does.
  if (!o.password_mode && o.register_mode == kRegisterTap && HasLetter(secret) &&
      OtpdSendable(secret, OTPD_MAX_PASSWORD)) {
    rc = Register(pamh, flags, &o, user, log_user, secret);
    explicit_bzero(secret, sizeof(secret));
    return rc;
  }
  if (!WellFormed(&o, secret)) {
    explicit_bzero(secret, sizeof(secret));
    if (o.password_mode) {
      Tell(pamh, flags, "Wrong password.");
      pam_syslog(pamh, LOG_NOTICE, "user %s: password empty, too long or with control characters",
                 log_user);
    } else {
      Tell(pamh, flags, "A verification code has 6 to 9 digits.");
      pam_syslog(pamh, LOG_NOTICE, "user %s: code not 6 to 9 digits, not sent to otpd", log_user);
    }
    return PAM_AUTH_ERR;
  }

  const OtpdField fields[] = {
      {.key = "user", .value = user},
      {.key = o.password_mode ? "password" : "otp", .value = secret},
  };
  OtpdAnswer answer;
  struct timespec started;
  clock_gettime(CLOCK_MONOTONIC, &started);
  OtpdAsk(o.socket_path, o.timeout_ms, o.password_mode ? "PASSWORD" : "VERIFY", fields, 2, &answer);
  explicit_bzero(secret, sizeof(secret));
  if (!o.password_mode && o.register_mode != kRegisterNone && answer.kind == kOtpdFail &&
      (ReasonIs(&answer, "registration_required") || ReasonIs(&answer, "no_method"))) {
    LogOutcome(pamh, &o, log_user, PAM_AUTH_ERR, &answer, ElapsedMs(&started));
    return Register(pamh, flags, &o, user, log_user, NULL);
  }
  rc = o.password_mode ? MapPassword(pamh, flags, &answer) : MapVerify(pamh, flags, &o, &answer);
  LogOutcome(pamh, &o, log_user, rc, &answer, ElapsedMs(&started));
  if (rc == PAM_USER_UNKNOWN && strchr(user, '@') == NULL) {
    pam_syslog(pamh, LOG_NOTICE,
               "user %s: otpd names users by address; give pam_otpd domain=DOMAIN to map login "
               "names (docs/pam.md)",
               log_user);
  }
  return rc;
}

OTPD_EXPORT int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv) {
  (void)pamh;
  (void)flags;
  (void)argc;
  (void)argv;
  return PAM_SUCCESS;
}
