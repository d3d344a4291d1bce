#define _GNU_SOURCE
#include "pam/otpd_client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

// otpd's default limit for a request line, LF excluded (docs/protocol.md, "Limits").
#define kMaxRequestLine 4096
// Replies otpd sends are short (the longest, STATS, is a few hundred bytes); a reply line longer
// than this is not from otpd.
#define kMaxReplyLine 4096
#define kHelloId "1"
#define kRequestId "2"

static long long NowMs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int RemainingMs(long long deadline) {
  long long left = deadline - NowMs();
  return left <= 0 ? 0 : (int)left;
}

static void SetError(OtpdAnswer* answer, const char* format, ...) {
  va_list args;
  va_start(args, format);
  answer->kind = kOtpdError;
  vsnprintf(answer->error, sizeof(answer->error), format, args);
  va_end(args);
}

// poll() for one fd until the deadline; 1 ready, 0 timed out, -1 error.
static int WaitFor(int fd, short events, long long deadline) {
  for (;;) {
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    int r = poll(&p, 1, RemainingMs(deadline));
    if (r < 0 && errno == EINTR) continue;
    return r > 0 ? 1 : r;
  }
}

static int Connect(const char* path, long long deadline, OtpdAnswer* answer) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  size_t length = strlen(path);
  if (length == 0 || length >= sizeof(addr.sun_path)) {
    SetError(answer, "socket path too long");
    return -1;
  }
  memcpy(addr.sun_path, path, length + 1);
  for (;;) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      SetError(answer, "socket: %m");
      return -1;
    }
    if (connect(fd, (const struct sockaddr*)&addr, sizeof(addr)) == 0) return fd;
    int err = errno;
    if (err == EINPROGRESS || err == EINTR) {
      int ready = WaitFor(fd, POLLOUT, deadline);
      if (ready == 0) {
        close(fd);
        SetError(answer, "timed out connecting to %s", path);
        return -1;
      }
      err = ready < 0 ? errno : 0;
      socklen_t size = sizeof(err);
      if (ready > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size) != 0) err = errno;
      if (err == 0) return fd;
    } else if (err == EAGAIN && RemainingMs(deadline) > 0) {
      // The listener's backlog is full: try again shortly, within the deadline.
      close(fd);
      struct timespec pause = {.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000};
      nanosleep(&pause, NULL);
      continue;
    }
    close(fd);
    errno = err;
    SetError(answer, "connect to %s: %m", path);
    return -1;
  }
}

static bool SendAll(int fd, const char* data, size_t size, long long deadline, OtpdAnswer* answer) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = send(fd, data + done, size - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int ready = WaitFor(fd, POLLOUT, deadline);
      if (ready > 0) continue;
      if (ready == 0) {
        SetError(answer, "timed out sending the request");
        return false;
      }
    }
    SetError(answer, "send: %m");
    return false;
  }
  return true;
}

bool OtpdSendable(const char* value, size_t max) {
  size_t length = 0;
  for (const unsigned char* p = (const unsigned char*)value; *p != '\0'; ++p, ++length) {
    if (length >= max) return false;
    if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f) return false;
  }
  return length > 0;
}

// Appends `value` escaped (\\ \t \n) to out[*used..cap); false when it does not fit.
static bool AppendEscaped(char* out, size_t cap, size_t* used, const char* value) {
  for (const char* p = value; *p != '\0'; ++p) {
    const char* piece = NULL;
    char plain[2] = {*p, '\0'};
    switch (*p) {
      case '\\':
        piece = "\\\\";
        break;
      case '\t':
        piece = "\\t";
        break;
      case '\n':
        piece = "\\n";
        break;
      default:
        piece = plain;
    }
    size_t n = strlen(piece);
    if (*used + n > cap) return false;
    memcpy(out + *used, piece, n);
    *used += n;
  }
  return true;
}

static bool Append(char* out, size_t cap, size_t* used, const char* text) {
  size_t n = strlen(text);
  if (*used + n > cap) return false;
  memcpy(out + *used, text, n);
  *used += n;
  return true;
}

// Un-escapes a reply value in place; false when it holds a bad escape or a control character.
static bool Unescape(char* value) {
  char* out = value;
  for (const char* p = value; *p != '\0'; ++p) {
    unsigned char c = (unsigned char)*p;
    if (c < 0x20 || c == 0x7f) return false;
    if (c != '\\') {
      *out++ = *p;
      continue;
    }
    ++p;
    if (*p == '\\') {
      *out++ = '\\';
    } else if (*p == 't') {
      *out++ = '\t';
    } else if (*p == 'n') {
      *out++ = '\n';
    } else {
      return false;
    }
  }
  *out = '\0';
  return true;
}

static long ParseSeconds(const char* text) {
  if (text == NULL || *text == '\0' || strlen(text) > 9) return -1;
  long value = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return -1;
    value = value * 10 + (*p - '0');
  }
  return value;
}

typedef struct {
  bool hello_ok;
  bool answered;  // the request's reply (or a reply with id "-") was read
} Progress;

#define kMaxFields 32

// Handles one reply line (NUL-terminated, LF removed). Returns false when the line is not a reply
// otpd would send to this exchange (answer->kind is then kOtpdError).
static bool HandleLine(char* line, Progress* progress, OtpdAnswer* answer) {
  size_t length = strlen(line);
  if (length > 0 && line[length - 1] == '\r') line[--length] = '\0';
  char* fields[kMaxFields];
  size_t count = 0;
  for (char* p = line;;) {
    if (count == kMaxFields) {
      SetError(answer, "malformed reply: too many fields");
      return false;
    }
    fields[count++] = p;
    char* tab = strchr(p, '\t');
    if (tab == NULL) break;
    *tab = '\0';
    p = tab + 1;
  }
  const bool ok = strcmp(fields[0], "OK") == 0;
  if ((!ok && strcmp(fields[0], "FAIL") != 0) || count < 2) {
    SetError(answer, "malformed reply: not an OK or FAIL line");
    return false;
  }
  const char* id = fields[1];
  const char* reason = NULL;
  const char* version = NULL;
  const char* retry_after = NULL;
  const char* must_change = NULL;
  const char* method = NULL;
  const char* uri = NULL;
  for (size_t i = 2; i < count; ++i) {
    char* equals = strchr(fields[i], '=');
    if (equals == NULL || equals == fields[i] || !Unescape(equals + 1)) {
      SetError(answer, "malformed reply: bad field");
      return false;
    }
    *equals = '\0';
    const char* key = fields[i];
    const char* value = equals + 1;
    if (strcmp(key, "reason") == 0) reason = value;
    if (strcmp(key, "version") == 0) version = value;
    if (strcmp(key, "retry_after") == 0) retry_after = value;
    if (strcmp(key, "must_change") == 0) must_change = value;
    if (strcmp(key, "method") == 0) method = value;
    if (strcmp(key, "uri") == 0) uri = value;
  }

  if (strcmp(id, kHelloId) == 0) {
    if (progress->hello_ok) {
      SetError(answer, "malformed reply: HELLO answered twice");
      return false;
    }
    if (!ok) {
      SetError(answer, "otpd refused HELLO (reason=%.31s)", reason != NULL ? reason : "");
      return false;
    }
    if (version == NULL || strcmp(version, "1") != 0) {
      SetError(answer, "otpd does not speak protocol version 1");
      return false;
    }
    progress->hello_ok = true;
    return true;
  }
  const bool for_request = strcmp(id, kRequestId) == 0;
  // "-" answers a line otpd could not attribute (or a connection it refused): it ends this
  // exchange, and is never an acceptance.
  if ((!for_request && strcmp(id, "-") != 0) || (!for_request && ok)) {
    SetError(answer, "malformed reply: unexpected id");
    return false;
  }
  if (progress->answered) {
    SetError(answer, "malformed reply: request answered twice");
    return false;
  }
  progress->answered = true;
  if (ok) {
    answer->kind = kOtpdOk;
    answer->must_change = must_change == NULL             ? -1
                          : strcmp(must_change, "1") == 0 ? 1
                          : strcmp(must_change, "0") == 0 ? 0
                                                          : 2;
    if (method != NULL && strlen(method) < sizeof(answer->method)) {
      memcpy(answer->method, method, strlen(method) + 1);
    }
    if (uri != NULL && strlen(uri) < sizeof(answer->uri)) {
      memcpy(answer->uri, uri, strlen(uri) + 1);
    }
    return true;
  }
  answer->kind = kOtpdFail;
  if (reason != NULL && strlen(reason) < sizeof(answer->reason)) {
    memcpy(answer->reason, reason, strlen(reason) + 1);
  }
  answer->retry_after = ParseSeconds(retry_after);
  return true;
}

// Reads replies until the request is decided: a FAIL (or an id "-" reply) decides at once; an OK
// only counts once the HELLO was answered OK.
static void ReadRepliesInto(char* buffer, size_t cap, int fd, long long deadline,
                            OtpdAnswer* answer);

// The reply may hold an enrolment's URI: the buffer is wiped however reading ends.
static void ReadReplies(int fd, long long deadline, OtpdAnswer* answer) {
  char buffer[kMaxReplyLine + 2];
  ReadRepliesInto(buffer, sizeof(buffer), fd, deadline, answer);
  explicit_bzero(buffer, sizeof(buffer));
}

static void ReadRepliesInto(char* buffer, size_t cap, int fd, long long deadline,
                            OtpdAnswer* answer) {
  size_t used = 0;
  Progress progress = {.hello_ok = false, .answered = false};
  for (;;) {
    char* newline;
    while ((newline = memchr(buffer, '\n', used)) != NULL) {
      size_t line_length = (size_t)(newline - buffer);
      if (memchr(buffer, '\0', line_length) != NULL) {
        SetError(answer, "malformed reply: NUL byte");
        return;
      }
      *newline = '\0';
      if (!HandleLine(buffer, &progress, answer)) return;
      used -= line_length + 1;
      memmove(buffer, newline + 1, used);
      if (progress.answered && (answer->kind != kOtpdOk || progress.hello_ok)) return;
    }
    if (used == cap) {
      SetError(answer, "malformed reply: line longer than %d bytes", kMaxReplyLine);
      return;
    }
    int ready = WaitFor(fd, POLLIN, deadline);
    if (ready == 0) {
      SetError(answer, "timed out waiting for otpd's answer");
      return;
    }
    if (ready < 0) {
      SetError(answer, "poll: %m");
      return;
    }
    ssize_t n = recv(fd, buffer + used, cap - used, 0);
    if (n == 0) {
      SetError(answer, "otpd closed the connection before answering");
      return;
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      SetError(answer, "recv: %m");
      return;
    }
    used += (size_t)n;
  }
}

void OtpdWipe(OtpdAnswer* answer) { explicit_bzero(answer->uri, sizeof(answer->uri)); }

void OtpdAsk(const char* socket_path, int timeout_ms, const char* verb, const OtpdField* fields,
             size_t field_count, OtpdAnswer* answer) {
  memset(answer, 0, sizeof(*answer));
  answer->kind = kOtpdError;
  answer->retry_after = -1;
  answer->must_change = -1;
  const long long deadline = NowMs() + timeout_ms;

  // HELLO and the request go out in one write; the request holds a code or a password, so the
  // buffer is wiped on every path.
  static const char kHello[] = "HELLO\t" kHelloId "\tversion=1\n";
  char request[sizeof(kHello) + kMaxRequestLine + 1];
  size_t used = 0;
  bool fits = Append(request, sizeof(request), &used, kHello) &&
              Append(request, sizeof(request), &used, verb) &&
              Append(request, sizeof(request), &used, "\t" kRequestId);
  for (size_t i = 0; fits && i < field_count; ++i) {
    fits = Append(request, sizeof(request), &used, "\t") &&
           Append(request, sizeof(request), &used, fields[i].key) &&
           Append(request, sizeof(request), &used, "=") &&
           AppendEscaped(request, sizeof(request), &used, fields[i].value);
  }
  fits = fits && used - (sizeof(kHello) - 1) <= kMaxRequestLine &&
         Append(request, sizeof(request), &used, "\n");
  if (!fits) {
    explicit_bzero(request, sizeof(request));
    SetError(answer, "request longer than %d bytes", kMaxRequestLine);
    return;
  }
  int fd = Connect(socket_path, deadline, answer);
  if (fd >= 0) {
    if (SendAll(fd, request, used, deadline, answer)) ReadReplies(fd, deadline, answer);
    close(fd);
  }
  explicit_bzero(request, sizeof(request));
}
