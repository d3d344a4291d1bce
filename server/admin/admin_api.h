// AdminApi answers the admin API's requests (docs/admin-api.md): Microsoft Graph's paths, field
// names, error shape and paging for the hardware-token inventory, users and their authentication
// methods, plus otpd's own resources in the same style (API keys, backups, the audit log).
//
// It is transport-free: AdminServer (admin_server.h) authenticates the caller, runs Handle on a
// worker thread and writes the answer. Authorization is the services' (service/admin/roles.h), so
// that the API, otpctl and the console enforce the same boundaries; a refused call changes nothing.
//
// Thread-safety: Handle may be called from several threads at once.

#ifndef OTPD_SERVER_ADMIN_ADMIN_API_H_
#define OTPD_SERVER_ADMIN_ADMIN_API_H_

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/statusor.h"
#include "server/admin/odata.h"
#include "server/http/http_server.h"
#include "service/admin/api_keys.h"
#include "service/admin/inventory.h"
#include "service/admin/method_admin.h"
#include "service/admin/roles.h"
#include "service/admin/token_file.h"
#include "service/admin/user_actions.h"
#include "service/admin/user_admin.h"
#include "service/credentials/app_passwords.h"
#include "service/credentials/temporary_access_pass.h"
#include "service/hooks/hooks.h"
#include "service/model/directory.h"

namespace otpd::server::admin {

// A pointer that cannot be null: made from a reference, used as a pointer.
template <typename T>
class Ref {
 public:
  Ref(T& object) : p_(&object) {}  // NOLINT(google-explicit-constructor): built from references
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }

 private:
  T* p_;
};

// What the API works on: one bundle, built by the composition root (tools/services.h) for the
// daemon and for otpctl's in-process API alike. Everything must outlive the AdminApi; only the
// invalidator may be absent.
struct AdminServices {
  Ref<storage::Store> store;
  Ref<const storage::KeyRing> keys;
  Ref<const base::Clock> clock;
  Ref<service::TokenInventory> inventory;
  Ref<service::MethodAdmin> methods;
  Ref<service::UserAdmin> users;
  Ref<service::ApiKeys> api_keys;
  // The administrator's actions (password reset, re-registration, sessions, app passwords,
  // temporary access passes).
  Ref<service::UserActions> user_actions;
  Ref<service::AppPasswords> app_passwords;
  Ref<service::TemporaryAccessPasses> taps;
  // The hooks' state: with the daemon's dispatcher, or with the daemon stopped as the store
  // holds it (service::HookAdmin).
  Ref<service::HookAdmin> hooks;
  // Writes a backup to a path on this machine and describes it.
  std::function<base::StatusOr<boost::json::value>(const std::string& path)> backup;
  // Told of every change to a user or token so that sign-ins load it afresh: the daemon's
  // sign-in cache; null where there is none (otpctl offline).
  service::CacheInvalidator* invalidator = nullptr;
  // Each hook's kind ("exec", "webhook") by name, for the hook list; empty offline.
  std::map<std::string, std::string, std::less<>> hook_kinds;
  service::InventoryOptions inventory_options;  // for imports
};

struct AdminApiOptions {
  // Token activations (right or wrong codes) per window over the whole API.
  uint32_t activations_per_window = 200;
  std::chrono::seconds activation_window{300};
};

// One request, as AdminServer hands it over.
struct ApiCall {
  const http::Request* request = nullptr;
  service::Principal principal;  // authenticated
  std::string request_id;
  std::string client_request_id;  // echoed in error bodies (ClientRequestId, graph.h)
  // "https://host" / "http://host" from the connection and the Host header, for nextLink and
  // Location; "" when unknown (links are then relative).
  std::string origin;
};

struct ApiResponse {
  unsigned status = 200;
  std::optional<boost::json::value> body;  // JSON; none for 202/204
  std::vector<std::pair<std::string, std::string>> headers;
  // A route's name for metrics, e.g. "GET /v1.0/users/{upn}"; "unmatched" when none matched.
  std::string route;
};

class AdminApi {
 public:
  AdminApi(AdminServices services, AdminApiOptions options);

  // Answers `call`. Failures are Graph errors (graph.h) with the matching status.
  ApiResponse Handle(const ApiCall& call);

  // Whether `header` names a route that takes a token file body (Entra CSV, OATH CSV, PSKC):
  // those may be as large as admin.max_import_mb, every other body as admin.max_body_kb.
  static bool TakesTokenFile(const http::RequestHeader& header);

  struct Call;
  struct Route;

 private:
  using Result = base::StatusOr<ApiResponse>;

  // Routes.
  Result ListDevices(Call& c);
  Result CreateDevices(Call& c);
  Result CreateDevicesDelta(Call& c);
  Result GetDevice(Call& c);
  Result UpdateDevice(Call& c);
  Result DeleteDevice(Call& c);
  Result ListImportBatches(Call& c);
  Result DiscardImportBatch(Call& c);
  Result AssignHardwareMethod(Call& c);
  Result GetHardwareMethod(Call& c);
  Result ActivateHardwareMethod(Call& c);
  Result DeactivateHardwareMethod(Call& c);
  Result AssignAndActivateBySerial(Call& c);
  Result UnassignHardwareMethod(Call& c);
  Result EnrolSoftwareMethod(Call& c);
  Result ConfirmSoftwareMethod(Call& c);
  // The routes every kind's collection answers alike (server/admin/internal/graph_method_kinds.h).
  Result ListKindMethods(Call& c);
  Result GetKindMethod(Call& c);
  Result CreateKindMethod(Call& c);
  Result UpdateKindMethod(Call& c);
  Result DeleteMethodRoute(Call& c);
  Result EnableSmsSignIn(Call& c);
  Result DisableSmsSignIn(Call& c);
  Result ListMethods(Call& c);
  Result GetMethod(Call& c);
  Result ListUsers(Call& c);
  Result GetUser(Call& c);
  Result PutUser(Call& c);
  Result CreateUser(Call& c);
  Result PatchUser(Call& c);
  Result DeleteUser(Call& c);
  Result UnlockUser(Call& c);
  Result ListApiKeys(Call& c);
  Result CreateApiKey(Call& c);
  Result RevokeApiKey(Call& c);
  Result Backup(Call& c);
  Result ListAudit(Call& c);
  Result ResetPassword(Call& c);
  Result GetResetPasswordOperation(Call& c);
  Result GetOperation(Call& c);
  Result RequireReregistration(Call& c);
  Result RevokeMfaSessions(Call& c);
  Result GetSignInPreferences(Call& c);
  Result UpdateSignInPreferences(Call& c);
  Result ListAppPasswords(Call& c);
  Result CreateAppPassword(Call& c);
  Result DeleteAppPassword(Call& c);
  Result DeleteAllAppPasswords(Call& c);
  Result DeleteUsersAppPasswords(Call& c);
  Result ListTaps(Call& c);
  Result CreateTap(Call& c);
  Result GetTap(Call& c);
  Result DeleteTap(Call& c);
  Result ListHooks(Call& c);
  Result ListDeadLetters(Call& c);
  Result RedeliverDeadLetters(Call& c);
  Result EnableHook(Call& c);
  Result Me(Call& c);

  // Helpers.
  Result ImportTokenFile(Call& c);
  Result ImportJsonDevices(Call& c, const boost::json::value& body);
  static base::StatusOr<service::TokenFile> ReadDeviceList(const Call& c,
                                                           const boost::json::value& list,
                                                           std::string_view where);
  base::StatusOr<boost::json::object> DeviceJson(const service::TokenRecord& token) const;
  base::StatusOr<boost::json::object> MethodJson(const service::Principal& viewer,
                                                 const service::MethodRecord& method) const;
  // The serial behind a user's hardware method `id` (a method id or the device's id).
  base::StatusOr<std::string> HardwareSerial(Call& c, std::string_view upn, std::string_view id);
  // The user's temporary access pass as Graph shows it (never the pass itself).
  base::StatusOr<boost::json::object> TapJson(const service::Principal& viewer,
                                              std::string_view upn) const;
  // A method as the methods list shows it (a temporary access pass with its usability).
  base::StatusOr<boost::json::object> AnyMethodJson(const Call& c,
                                                    const service::MethodRecord& method) const;
  base::StatusOr<service::MethodRecord> MethodOfKind(Call& c, std::string_view upn,
                                                     std::string_view id, service::MethodKind kind);
  // Counts one activation against the window; ResourceExhausted-like 429 when it is full.
  base::Status TakeActivation();
  // TakeActivation as the API answers it: the 429 (with Retry-After) when the window is full.
  std::optional<ApiResponse> ActivationLimited(const Call& c);
  // Activates `serial` (assigned to the caller's user) with `code`: 204, or 400 for a wrong code.
  Result Activate(Call& c, const std::string& serial, const std::string& code,
                  std::optional<std::string> name);
  // Enables or disables sign-in by SMS on the phone the call names.
  Result SetSmsSignIn(Call& c, bool enabled);

  static const std::vector<Route>& Routes();

  const AdminServices s_;
  const AdminApiOptions options_;

  base::Mutex activations_mu_;
  std::deque<std::chrono::steady_clock::time_point> activations_ OTPD_GUARDED_BY(activations_mu_);
};

}  // namespace otpd::server::admin

#endif  // OTPD_SERVER_ADMIN_ADMIN_API_H_
