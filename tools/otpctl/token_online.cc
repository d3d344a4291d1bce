#include "tools/otpctl/token_online.h"

#include <boost/json.hpp>
#include <iostream>

#include "base/secret_bytes.h"
#include "tools/display.h"
#include "tools/otpctl/online.h"

namespace otpd::tools {
namespace {

namespace json = boost::json;

constexpr char kDevices[] = "/v1.0/directory/authenticationMethodDevices/hardwareOathDevices";

std::string DevicePath(const std::string& serial) {
  return std::string(kDevices) + "/" + UrlEncode(serial);
}

std::string UserMethods(const std::string& upn) {
  return "/v1.0/users/" + UrlEncode(upn) + "/authentication/hardwareOathMethods";
}

std::string AssignedTo(const json::value& d) {
  const json::value* who = d.as_object().if_contains("assignedTo");
  return who != nullptr && who->is_object() ? Text(*who, "id") : "";
}

// "SHA1" from "hmacsha1", as the offline output names algorithms.
std::string Algorithm(const json::value& d) {
  std::string h = Text(d, "hashFunction");
  if (h.starts_with("hmac")) h = h.substr(4);
  for (char& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return h;
}

// The offline --json object's fields, from a device.
json::object TokenJson(const json::value& d) {
  json::object o;
  o["serial"] = Text(d, "serialNumber");
  o["status"] = Text(d, "status");
  o["user"] = AssignedTo(d);
  o["manufacturer"] = d.as_object().at("manufacturer");
  o["model"] = d.as_object().at("model");
  o["type"] = Text(d, "type");
  o["algorithm"] = Algorithm(d);
  o["digits"] = d.as_object().at("digits");
  if (Text(d, "type") == "totp") o["period"] = d.as_object().at("timeIntervalInSeconds");
  o["batch"] = d.as_object().at("batch");
  o["activation_failures"] = d.as_object().at("activationFailures");
  o["created"] = Text(d, "createdDateTime");
  return o;
}

// "Acme K1"; one of them alone when the other is not set; "-" when neither is.
std::string MakeAndModel(const json::value& d) {
  std::string out;
  for (const char* field : {"manufacturer", "model"}) {
    const std::string value = Text(d, field);
    if (value != "-") out += (out.empty() ? "" : " ") + Printable(value, 64);
  }
  return out.empty() ? "-" : out;
}

std::string Kind(const json::value& d) {
  return Text(d, "type") + "/" + Algorithm(d) + "/" + Text(d, "digits");
}

int Fail(const std::string& what, const base::Status& s) { return FailWith(what, s); }

int List(AdminClient& admin, const TokenCommandOptions& o) {
  std::string filter;
  auto add = [&](const std::string& field, const std::string& value) {
    if (value.empty()) return;
    std::string quoted;
    for (char c : value) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    filter += (filter.empty() ? "" : " and ") + field + " eq '" + quoted + "'";
  };
  add("status", o.status);
  add("assignedTo/id", o.user);
  add("batch", o.batch);
  std::string target = std::string(kDevices) + "?$top=500";
  if (!filter.empty()) target += "&$filter=" + UrlEncode(filter);
  auto devices = admin.List(target);
  if (!devices.ok()) return Fail("token list", devices.status());
  if (o.json) {
    json::array rows;
    for (const json::value& d : *devices) rows.push_back(TokenJson(d));
    std::cout << json::serialize(rows) << "\n";
    return 0;
  }
  std::cout << "SERIAL\tSTATUS\tUSER\tKIND\tMANUFACTURER MODEL\n";
  for (const json::value& d : *devices) {
    const std::string user = AssignedTo(d);
    std::cout << Printable(Text(d, "serialNumber"), 64) << "\t" << Text(d, "status") << "\t"
              << (user.empty() ? "-" : Printable(user, 254)) << "\t" << Kind(d) << "\t"
              << MakeAndModel(d) << "\n";
  }
  return 0;
}

void PrintToken(const json::value& d) {
  const std::string user = AssignedTo(d);
  std::string kind = Text(d, "type") + " " + Algorithm(d) + ", " + Text(d, "digits") + " digits";
  if (Text(d, "type") == "totp") kind += ", " + Text(d, "timeIntervalInSeconds") + " s";
  PrintFields({{"serial", Printable(Text(d, "serialNumber"), 64)},
               {"status", Text(d, "status")},
               {"user", user.empty() ? "-" : Printable(user, 254)},
               {"manufacturer", Printable(Text(d, "manufacturer"), 64)},
               {"model", Printable(Text(d, "model"), 64)},
               {"kind", kind},
               {"batch", Text(d, "batch")},
               {"created", Text(d, "createdDateTime")},
               {"last used", Text(d, "lastUsedDateTime")},
               {"activation failures", Text(d, "activationFailures")}});
}

}  // namespace

int RunTokenOnline(AdminClient& admin, const std::string& verb, const TokenCommandOptions& o,
                   const std::string& upn, std::string code) {
  const std::string what = "token " + verb;
  if (verb == "list") return List(admin, o);
  auto device = admin.Get(DevicePath(o.serial));
  if (!device.ok()) {
    base::Wipe(code.data(), code.size());
    return Fail(what, device.status());
  }
  if (verb == "show") {
    if (o.json) {
      std::cout << json::serialize(TokenJson(*device)) << "\n";
    } else {
      PrintToken(*device);
    }
    return 0;
  }
  const std::string owner = AssignedTo(*device);
  const std::string method = UserMethods(owner) + "/" + UrlEncode(o.serial);
  if (verb != "assign" && verb != "delete" && verb != "update" && owner.empty()) {
    base::Wipe(code.data(), code.size());
    return Fail(what, base::FailedPreconditionError("token " + Printable(o.serial) +
                                                    " is not assigned to anyone"));
  }
  base::StatusOr<json::value> done = json::value(nullptr);
  if (verb == "assign") {
    json::value body = json::object{{"device", json::object{{"id", o.serial}}}};
    done = admin.Post(UserMethods(upn), body);
  } else if (verb == "activate") {
    json::value body = json::object{{"verificationCode", code}};
    base::Wipe(code.data(), code.size());
    done = admin.Post(method + "/activate", body);
    json::string& sent = body.as_object()["verificationCode"].as_string();
    base::Wipe(sent.data(), sent.size());
    // A refused code (wrong, already used, malformed) is an answer, not an error: exit 1 with
    // what the daemon said (service::ActivationRefusal), as offline.
    if (!done.ok() && base::IsInvalidArgument(done.status()) &&
        std::string_view(done.status().message()).find("refused activation codes so far") !=
            std::string_view::npos) {
      std::cerr << "otpctl token activate: " << Printable(done.status().message(), 300) << "\n";
      return 1;
    }
    if (done.ok()) {
      std::cout << "token " << Printable(o.serial) << " activated\n";
      return 0;
    }
  } else if (verb == "deactivate") {
    done = admin.Post(method + "/deactivate", json::object());
  } else if (verb == "unassign") {
    done = admin.Call("DELETE", method);
  } else if (verb == "delete") {
    done = admin.Call("DELETE", DevicePath(o.serial));
  } else if (verb == "update") {
    json::object fields;
    if (o.display_name) fields["displayName"] = *o.display_name;
    if (o.manufacturer) fields["manufacturer"] = *o.manufacturer;
    if (o.model) fields["model"] = *o.model;
    json::value body = std::move(fields);
    done = admin.Call("PATCH", DevicePath(o.serial), &body);
  }
  if (!done.ok()) return Fail(what, done.status());
  std::cout << "token " << Printable(o.serial) << ": " << verb << " done\n";
  return 0;
}

}  // namespace otpd::tools
