// The webhook: each event is POSTed as JSON to a configured http:// or https:// URL, signed the
// way Standard Webhooks 1.0 signs:
//   webhook-id:        the event's id (the same on every retry: receivers de-duplicate by it)
//   webhook-timestamp: Unix seconds when this attempt was made
//   webhook-signature: "v1,<base64 of HMAC-SHA256(key, id + "." + timestamp + "." + body)>", one
//                      per configured secret, separated by spaces (several during a rotation)
// where each secret is written "whsec_<base64 of 24..64 random bytes>" and the key is those bytes.
//
// A 2xx answer is delivered; 410 Gone disables the hook (HookDispatcher keeps its events until
// it is enabled again); anything else (another status, a refused connection, a timeout, a TLS
// failure) is retried, after the Retry-After the receiver gave (seconds or an HTTP date) when it
// gave one. HTTPS checks the server's certificate against the system's trust store (or
// `ca_file`) and its name against the URL's host. Redirects are not followed.
//
// Thread-safety: Deliver may be called from one thread at a time (HookDispatcher does).

#ifndef OTPD_SERVER_HOOKS_WEBHOOK_SINK_H_
#define OTPD_SERVER_HOOKS_WEBHOOK_SINK_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/secret_bytes.h"
#include "base/statusor.h"
#include "service/hooks/hooks.h"

namespace otpd::server::hooks {

// "whsec_<base64>" to the key's bytes: InvalidArgument unless it has that shape and 24..64 bytes
// (the message never holds the secret).
base::StatusOr<base::SecretBytes> ParseWebhookSecret(std::string_view text);

// One signature: "v1," + base64(HMAC-SHA256(key, id.timestamp.body)).
std::string SignWebhook(const base::SecretBytes& key, std::string_view id, int64_t timestamp,
                        std::string_view body);

// A parsed http(s) URL.
struct WebhookUrl {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;
  std::string target;  // path and query, "/" at least
};
// InvalidArgument for anything but http://HOST[:PORT][/PATH] or https://... (no user info, no
// fragment).
base::StatusOr<WebhookUrl> ParseWebhookUrl(std::string_view url);

// The wait a Retry-After header asks for: delay-seconds or an HTTP date (then relative to
// `now_unix`). nullopt when it is neither.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, int64_t now_unix);

struct WebhookSinkOptions {
  std::string url;
  // The signing keys (ParseWebhookSecret), each signing every request.
  std::vector<base::SecretBytes> secrets;
  // Connect, send and receive, all together. Default 10 s.
  std::chrono::milliseconds timeout{10'000};
  // https: a PEM file of trusted CAs instead of the system's. Optional.
  std::string ca_file;
  // Whether the receiver gets events' secrets (the code of an sms.send). Default true.
  bool event_secrets = true;
};

class WebhookSink final : public service::EventSink {
 public:
  // The URL must have been checked with ParseWebhookUrl; `clock` gives the timestamps.
  WebhookSink(WebhookSinkOptions options, const base::Clock& clock);
  ~WebhookSink() override;

  service::DeliveryResult Deliver(const service::OutboxEvent& event,
                                  std::string_view json) override;
  bool wants_secrets() const override { return options_.event_secrets; }

 private:
  const WebhookSinkOptions options_;
  const base::Clock& clock_;
  WebhookUrl url_;
};

}  // namespace otpd::server::hooks

#endif  // OTPD_SERVER_HOOKS_WEBHOOK_SINK_H_
