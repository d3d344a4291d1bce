#include "tools/services.h"

#include <boost/json.hpp>
#include <utility>

namespace otpd::tools {

Services::Services(const ServiceInputs& in)
    : in_(in),
      directory_(in.store, in.keys),
      inventory_(in.store, in.keys, in.clock, service::InventoryOptions{}, in.invalidator),
      methods_(in.store, in.keys, in.clock, service::MethodAdminOptions{}, in.invalidator),
      users_(directory_, in.clock, in.invalidator),
      api_keys_(directory_, in.clock),
      user_actions_(directory_, in.clock, in.hasher, in.invalidator),
      app_passwords_(directory_, in.clock, in.invalidator),
      taps_(directory_, in.clock, service::TapPolicy{}, in.invalidator) {}

server::admin::AdminServices Services::Admin(
    service::HookAdmin& hooks, std::map<std::string, std::string, std::less<>> hook_kinds,
    BackupWriter backup) {
  auto describe =
      [backup = std::move(backup)](const std::string& path) -> base::StatusOr<boost::json::value> {
    OTPD_ASSIGN_OR_RETURN(BackupManifest manifest, backup(path));
    boost::json::object out;
    out["backup"] = path;
    out["manifest"] = boost::json::parse(ManifestJson(manifest));
    return boost::json::value(std::move(out));
  };
  return server::admin::AdminServices{
      .store = in_.store,
      .keys = in_.keys,
      .clock = in_.clock,
      .inventory = inventory_,
      .methods = methods_,
      .users = users_,
      .api_keys = api_keys_,
      .user_actions = user_actions_,
      .app_passwords = app_passwords_,
      .taps = taps_,
      .hooks = hooks,
      .backup = std::move(describe),
      .invalidator = in_.invalidator,
      .hook_kinds = std::move(hook_kinds),
      .inventory_options = service::InventoryOptions{},
  };
}

}  // namespace otpd::tools
