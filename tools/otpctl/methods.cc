#include "tools/otpctl/methods.h"

#include <unistd.h>

#include <iostream>
#include <map>

#include "base/secret_bytes.h"
#include "tokenio/qr.h"
#include "tokenio/upn.h"
#include "tools/display.h"

namespace otpd::tools {
namespace {

namespace json = boost::json;

std::string Methods(const std::string& upn, std::string_view kind) {
  return "/v1.0/users/" + UrlEncode(upn) + "/authentication/" + std::string(kind);
}

// Graph's fixed phone method ids.
base::StatusOr<std::string> PhoneId(const std::string& type) {
  if (type == "mobile") return std::string("3179e48a-750b-4051-897c-87b9720928f7");
  if (type == "alternateMobile") return std::string("b6332ec1-7057-4abe-9331-3d72feddfe41");
  if (type == "office") return std::string("e37fc753-ff3b-4958-9484-eaa9425c82bc");
  return base::InvalidArgumentError("the phone type must be mobile, alternateMobile or office");
}

std::string Kind(const json::value& m) {
  std::string t = Text(m, "@odata.type");
  const std::string prefix = "#microsoft.graph.";
  if (t.starts_with(prefix)) t = t.substr(prefix.size());
  const std::string suffix = "AuthenticationMethod";
  if (t.ends_with(suffix)) t = t.substr(0, t.size() - suffix.size());
  return t;
}

// One line describing a method, without secrets (the API never returns them on reads).
std::string Detail(const json::value& m) {
  const std::string kind = Kind(m);
  if (kind == "phone") {
    return Text(m, "phoneType") + " " + Text(m, "phoneNumber") + " (SMS sign-in " +
           Text(m, "smsSignInState") + ")";
  }
  if (kind == "email") return Text(m, "emailAddress");
  if (kind == "softwareOath") return Text(m, "displayName") + " (" + Text(m, "status") + ")";
  if (kind == "hardwareOath" && m.as_object().contains("device")) {
    const json::value& d = m.as_object().at("device");
    return "serial " + Text(d, "serialNumber") + " (" + Text(d, "status") + ")";
  }
  return "-";
}

base::Status ListMethods(AdminClient& admin, const MethodCommandOptions& o) {
  OTPD_ASSIGN_OR_RETURN(json::array methods, admin.List(Methods(o.upn, "methods")));
  if (o.json) {
    std::cout << json::serialize(methods) << "\n";
    return base::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const json::value& m : methods) {
    rows.push_back({Kind(m), Text(m, "id"), Detail(m), Text(m, "createdDateTime")});
  }
  PrintTable({"KIND", "ID", "DETAIL", "CREATED"}, rows);
  return base::OkStatus();
}

void Done(const MethodCommandOptions& o, const std::string& message, json::value result) {
  if (o.json) {
    std::cout << json::serialize(result.is_null() ? json::value(json::object{{"done", true}})
                                                  : result)
              << "\n";
  } else {
    std::cout << message << "\n";
  }
}

base::Status Phone(AdminClient& admin, const std::string& verb, const MethodCommandOptions& o) {
  const std::string who = Printable(o.upn, 254);
  if (verb == "add") {
    OTPD_ASSIGN_OR_RETURN(std::string id, PhoneId(o.type));
    json::value body = json::object{{"phoneNumber", o.value}, {"phoneType", o.type}};
    OTPD_ASSIGN_OR_RETURN(json::value m, admin.Post(Methods(o.upn, "phoneMethods"), body));
    Done(o, o.type + " phone added for " + who, std::move(m));
    return base::OkStatus();
  }
  const std::string type = verb == "update" || verb == "delete" ? o.type : "mobile";
  OTPD_ASSIGN_OR_RETURN(std::string id, PhoneId(type));
  const std::string path = Methods(o.upn, "phoneMethods") + "/" + id;
  if (verb == "update") {
    json::value body = json::object{{"phoneNumber", o.value}};
    OTPD_RETURN_IF_ERROR(admin.Call("PATCH", path, &body).status());
  } else if (verb == "delete") {
    OTPD_RETURN_IF_ERROR(admin.Call("DELETE", path).status());
  } else {
    const bool enable = verb == "enable-sms";
    OTPD_RETURN_IF_ERROR(
        admin.Post(path + (enable ? "/enableSmsSignIn" : "/disableSmsSignIn"), json::object())
            .status());
  }
  Done(o, type + " phone of " + who + ": " + verb + " done", nullptr);
  return base::OkStatus();
}

base::Status Email(AdminClient& admin, const std::string& verb, const MethodCommandOptions& o) {
  if (verb == "add") {
    json::value body = json::object{{"emailAddress", o.value}};
    OTPD_ASSIGN_OR_RETURN(json::value m, admin.Post(Methods(o.upn, "emailMethods"), body));
    Done(o, "e-mail address added for " + Printable(o.upn, 254), std::move(m));
    return base::OkStatus();
  }
  OTPD_ASSIGN_OR_RETURN(json::array emails, admin.List(Methods(o.upn, "emailMethods")));
  if (emails.empty()) {
    return base::NotFoundError("user " + Printable(o.upn, 254) + " has no e-mail method");
  }
  OTPD_RETURN_IF_ERROR(
      admin.Call("DELETE", Methods(o.upn, "emailMethods") + "/" + UrlEncode(Text(emails[0], "id")))
          .status());
  Done(o, "e-mail address of " + Printable(o.upn, 254) + " deleted", nullptr);
  return base::OkStatus();
}

base::Status Confirm(AdminClient& admin, const MethodCommandOptions& o, const std::string& id,
                     const std::string& given) {
  OTPD_ASSIGN_OR_RETURN(std::string code, ReadCode(given, "code shown by the app"));
  json::value body = json::object{{"verificationCode", code}};
  base::Wipe(code.data(), code.size());
  auto r =
      admin.Post(Methods(o.upn, "softwareOathMethods") + "/" + UrlEncode(id) + "/confirm", body);
  json::string& sent = body.as_object()["verificationCode"].as_string();
  base::Wipe(sent.data(), sent.size());
  return r.status();
}

base::Status Enrol(AdminClient& admin, const MethodCommandOptions& o) {
  json::value body = json::object{{"displayName", o.name}};
  OTPD_ASSIGN_OR_RETURN(json::value m, admin.Post(Methods(o.upn, "softwareOathMethods"), body));
  json::object& out = m.as_object();
  const std::string id = Text(m, "id");
  std::string uri = Text(m, "otpauthUri");
  out.erase("qrCodeSvg");
  if (o.json) {
    std::cout << json::serialize(m) << "\n";
  } else {
    auto qr = tokenio::QrTerminal(uri);
    if (qr.ok()) std::cout << qr->view();
    std::cout << "software token " << Printable(id, 64) << " enrolled for " << Printable(o.upn, 254)
              << " (pending until confirmed)\n"
              << "otpauth URI (shown this once): " << uri << "\n";
  }
  // The secret leaves this process only on the terminal above.
  base::Wipe(uri.data(), uri.size());
  for (const char* field : {"secretKey", "otpauthUri"}) {
    if (json::value* s = out.if_contains(field); s && s->is_string()) {
      base::Wipe(s->as_string().data(), s->as_string().size());
    }
  }
  if (o.no_confirm || o.json) return base::OkStatus();
  if (!isatty(STDIN_FILENO)) {
    std::cout << "confirm with: otpctl software-token confirm " << Printable(o.upn, 254) << " "
              << Printable(id, 64) << "\n";
    return base::OkStatus();
  }
  OTPD_RETURN_IF_ERROR(Confirm(admin, o, id, ""));
  std::cout << "software token " << Printable(id, 64) << " confirmed\n";
  return base::OkStatus();
}

base::Status SoftwareToken(AdminClient& admin, const std::string& verb,
                           const MethodCommandOptions& o) {
  if (verb == "enrol") return Enrol(admin, o);
  if (verb == "confirm") {
    OTPD_RETURN_IF_ERROR(Confirm(admin, o, o.value, o.code));
  } else {
    OTPD_RETURN_IF_ERROR(
        admin.Call("DELETE", Methods(o.upn, "softwareOathMethods") + "/" + UrlEncode(o.value))
            .status());
  }
  Done(o, "software token " + Printable(o.value, 64) + ": " + verb + " done", nullptr);
  return base::OkStatus();
}

// `method delete UPN ID`: whatever kind the method is, through its own collection (a hardware
// token is unassigned and stays in the inventory).
base::Status DeleteMethod(AdminClient& admin, const MethodCommandOptions& o) {
  OTPD_ASSIGN_OR_RETURN(json::array methods, admin.List(Methods(o.upn, "methods")));
  for (const json::value& m : methods) {
    if (Text(m, "id") != o.value) continue;
    const std::string kind = Kind(m);
    static const std::map<std::string, std::string> kCollections = {
        {"hardwareOath", "hardwareOathMethods"},
        {"softwareOath", "softwareOathMethods"},
        {"phone", "phoneMethods"},
        {"email", "emailMethods"},
        {"temporaryAccessPass", "temporaryAccessPassMethods"}};
    auto collection = kCollections.find(kind);
    if (collection == kCollections.end()) {
      return base::InvalidArgumentError("a " + kind +
                                        " method cannot be deleted; see otpctl user --help");
    }
    OTPD_RETURN_IF_ERROR(
        admin.Call("DELETE", Methods(o.upn, collection->second) + "/" + UrlEncode(o.value))
            .status());
    Done(o,
         kind + " method " + Printable(o.value, 64) + " of " + Printable(o.upn, 254) + " deleted",
         nullptr);
    return base::OkStatus();
  }
  return base::NotFoundError("user " + Printable(o.upn, 254) + " has no method " +
                             Printable(o.value, 64) + " (otpctl method list shows them)");
}

}  // namespace

MethodCommands AddMethodCommands(CLI::App& app, MethodCommandOptions& o) {
  const char* kUpn = "The user (e-mail address)";
  CLI::App* method = app.add_subcommand("method", "A user's authentication methods");
  method->add_subcommand("list", "Every method of a user")
      ->add_option("UPN", o.upn, kUpn)
      ->required();
  CLI::App* add_phone = method->add_subcommand("add-phone", "Same as phone add");
  add_phone->add_option("UPN", o.upn, kUpn)->required();
  add_phone->add_option("NUMBER", o.value, "The number, e.g. \"+1 4255551234\"")->required();
  add_phone->add_option("--type", o.type, "mobile (default), alternateMobile or office");
  CLI::App* add_email = method->add_subcommand("add-email", "Same as email add");
  add_email->add_option("UPN", o.upn, kUpn)->required();
  add_email->add_option("ADDRESS", o.value, "The address")->required();
  CLI::App* method_del =
      method->add_subcommand("delete", "Delete a method of any kind by its id (method list)");
  method_del->add_option("UPN", o.upn, kUpn)->required();
  method_del->add_option("ID", o.value, "The method's id")->required();

  CLI::App* phone = app.add_subcommand("phone", "A user's phone methods");
  CLI::App* add = phone->add_subcommand("add", "Add a phone number (+CC NUMBER[xEXT])");
  add->add_option("UPN", o.upn, kUpn)->required();
  add->add_option("NUMBER", o.value, "The number, e.g. \"+1 4255551234\"")->required();
  add->add_option("--type", o.type, "mobile (default), alternateMobile or office");
  CLI::App* update = phone->add_subcommand("update", "Change the number of a phone type");
  update->add_option("UPN", o.upn, kUpn)->required();
  update->add_option("TYPE", o.type, "mobile, alternateMobile or office")->required();
  update->add_option("NUMBER", o.value, "The new number")->required();
  CLI::App* del = phone->add_subcommand("delete", "Delete the phone of a type");
  del->add_option("UPN", o.upn, kUpn)->required();
  del->add_option("TYPE", o.type, "mobile, alternateMobile or office")->required();
  phone->add_subcommand("enable-sms", "Allow sign-in by SMS to the mobile phone")
      ->add_option("UPN", o.upn, kUpn)
      ->required();
  phone->add_subcommand("disable-sms", "Stop sign-in by SMS to the mobile phone")
      ->add_option("UPN", o.upn, kUpn)
      ->required();

  CLI::App* email = app.add_subcommand("email", "A user's e-mail method (password reset only)");
  CLI::App* email_add = email->add_subcommand("add", "Set the user's e-mail address");
  email_add->add_option("UPN", o.upn, kUpn)->required();
  email_add->add_option("ADDRESS", o.value, "The address")->required();
  email->add_subcommand("delete", "Delete the user's e-mail method")
      ->add_option("UPN", o.upn, kUpn)
      ->required();

  CLI::App* sw = app.add_subcommand("software-token", "Authenticator apps (software OATH tokens)");
  CLI::App* enrol = sw->add_subcommand(
      "enrol", "Enrol an app: prints its otpauth URI and QR code once, then confirms with a code");
  enrol->add_option("UPN", o.upn, kUpn)->required();
  enrol->add_option("--name", o.name, "A display name for the app");
  enrol->add_flag("--no-confirm", o.no_confirm,
                  "Do not ask for a code now (confirm later with software-token confirm)");
  CLI::App* confirm =
      sw->add_subcommand("confirm", "Confirm an enrolment with a code from the app");
  confirm->add_option("UPN", o.upn, kUpn)->required();
  confirm->add_option("ID", o.value, "The software token's id (method list shows it)")->required();
  confirm->add_option("CODE", o.code, "The code; '-' or left out: read from standard input");
  CLI::App* sw_del = sw->add_subcommand("delete", "Delete an authenticator app");
  sw_del->add_option("UPN", o.upn, kUpn)->required();
  sw_del->add_option("ID", o.value, "The software token's id")->required();

  MethodCommands out{{method, phone, email, sw}};
  for (CLI::App* parent : out.parents) {
    parent->require_subcommand(1);
    AddAdminCommandFlags(parent, o);
  }
  return out;
}

int RunMethodCommand(const MethodCommands& commands, const MethodCommandOptions& given) {
  for (CLI::App* parent : commands.parents) {
    if (!parent->parsed()) continue;
    const std::string group = parent->get_name();
    const std::string verb = parent->get_subcommands().front()->get_name();
    const std::string what = group + " " + verb;
    MethodCommandOptions o = given;
    auto upn = tokenio::NormaliseUpn(o.upn);
    if (!upn.ok()) {
      std::cerr << "otpctl " << what << ": UPN: " << upn.status().message() << "\n";
      return 2;
    }
    o.upn = *upn;
    if ((group == "phone" || verb == "add-phone") && !PhoneId(o.type).ok()) {
      std::cerr << "otpctl " << what << ": the phone type must be mobile, alternateMobile or "
                << "office\n";
      return 2;
    }
    if (group == "software-token" && verb == "confirm") {
      // A code of the wrong shape is a usage error, found before anything is opened.
      auto code = ReadCode(o.code, "code shown by the app");
      if (!code.ok()) {
        std::cerr << "otpctl " << what << ": " << code.status().message() << "\n";
        return 2;
      }
      o.code = std::move(*code);
    }
    const bool read_only = group == "method" && verb == "list";
    return WithAdmin(o, what, read_only, [&](AdminClient& admin) -> base::Status {
      if (verb == "add-phone") return Phone(admin, "add", o);
      if (verb == "add-email") return Email(admin, "add", o);
      if (group == "method" && verb == "delete") return DeleteMethod(admin, o);
      if (group == "method") return ListMethods(admin, o);
      if (group == "phone") return Phone(admin, verb, o);
      if (group == "email") return Email(admin, verb, o);
      return SoftwareToken(admin, verb, o);
    });
  }
  return -1;
}

}  // namespace otpd::tools
