// The hardware-token inventory: hardwareOathDevices, one device, a list, or a whole token file.

#include <algorithm>
#include <boost/json.hpp>
#include <initializer_list>
#include <optional>
#include <set>

#include "base/codec.h"
#include "server/admin/admin_api.h"
#include "server/admin/internal/api_common.h"
#include "server/admin/json_body.h"
#include "service/admin/token_file.h"

namespace otpd::server::admin {

namespace json = boost::json;
namespace bhttp = boost::beast::http;
using base::Status;

namespace {

// InvalidArgument naming the first query parameter of `target` not in `allowed`.
Status OnlyParameters(const Target& target, std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : target.query) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return base::InvalidArgumentError(
          name.size() <= 64 ? "the query parameter " + name + " is not supported here"
                            : std::string("a query parameter is not supported here"));
    }
  }
  return base::OkStatus();
}

// The device objects of a devices body: one object, or a non-empty array of them.
base::StatusOr<std::vector<const json::object*>> DeviceObjects(const json::value& body) {
  if (body.is_object()) return std::vector<const json::object*>{&body.as_object()};
  if (!body.is_array()) {
    return base::InvalidArgumentError("the body must be a device object or an array of them");
  }
  if (body.as_array().empty()) return base::InvalidArgumentError("the array holds no devices");
  std::vector<const json::object*> objects;
  for (const json::value& v : body.as_array()) {
    if (!v.is_object()) {
      return base::InvalidArgumentError("item " + std::to_string(objects.size() + 1) +
                                        " of the array is not an object");
    }
    objects.push_back(&v.as_object());
  }
  return objects;
}

// The OATH parameters a device object may set, as sent.
struct ParamFields {
  std::optional<int64_t> period;
  std::optional<std::string> hash;
  std::optional<std::string> type;
  std::optional<int64_t> digits;
  std::optional<int64_t> counter;
};

ParamFields ReadParamFields(FieldReader& in) {
  ParamFields f;
  f.period = in.OptionalInt("timeIntervalInSeconds", 1, 86400);
  f.hash = in.OptionalString("hashFunction");
  f.type = in.OptionalString("type");
  f.digits = in.OptionalInt("digits", engine::kMinDigits, 8);
  f.counter = in.OptionalInt("counter", 0, INT64_MAX);
  return f;
}

// Sets `t`'s parameters and counter from `f`; errors name the field after `where`.
Status ApplyParams(const ParamFields& f, const std::string& where, tokenio::TokenRecord& t) {
  if (f.type) {
    auto parsed = engine::ParseOtpType(*f.type);
    if (!parsed.ok()) return base::InvalidArgumentError(where + "type must be totp or hotp");
    t.params.type = *parsed;
  }
  if (f.hash) {
    auto algorithm = engine::ParseHashAlgorithm(*f.hash);
    if (!algorithm.ok()) {
      return base::InvalidArgumentError(where +
                                        "hashFunction must be hmacsha1, hmacsha256 or hmacsha512");
    }
    t.params.algorithm = *algorithm;
  }
  if (f.period) t.params.period = static_cast<uint32_t>(*f.period);
  if (f.digits) t.params.digits = static_cast<int>(*f.digits);
  if (f.counter) {
    if (t.params.type != engine::OtpType::kHotp) {
      return base::InvalidArgumentError(where + "counter is for HOTP tokens (type \"hotp\")");
    }
    t.counter = static_cast<uint64_t>(*f.counter);
  }
  if (Status valid = t.params.Validate(); !valid.ok()) return valid.WithContext(where + "device");
  return base::OkStatus();
}

// The seed of a secretKey: Base32, at most 128 characters, at least 128 bits.
base::StatusOr<base::SecretBytes> DecodeSecretKey(std::string_view secret,
                                                  const std::string& where) {
  auto seed = base::Base32Decode(secret);
  if (!seed.ok() || secret.size() > 128) {
    return base::InvalidArgumentError(
        where + "secretKey must be Base32 (A-Z, 2-7), at most 128 characters");
  }
  if (seed->size() < 16) {
    return base::InvalidArgumentError(where + "secretKey must hold at least 128 bits");
  }
  return std::move(*seed);
}

// One device object as a token to import; errors name the field after `where` ("" for a single
// object, "[i]." in an array).
base::StatusOr<tokenio::TokenRecord> ReadDevice(const json::object& object,
                                                const std::string& where) {
  FieldReader in(object, where);
  tokenio::TokenRecord t;
  t.serial = in.String("serialNumber", FieldReader::kRequired);
  std::string secret = in.String("secretKey", FieldReader::kRequired);
  t.manufacturer = in.Text("manufacturer");
  t.model = in.Text("model");
  t.display_name = in.Text("displayName");
  const ParamFields params = ReadParamFields(in);
  const json::object* assign = in.Object("assignTo");
  in.Allow("@odata.type");
  in.Allow("id");
  in.Allow("status");
  in.Allow("@contentId");  // a #$delta body's own numbering
  OTPD_RETURN_IF_ERROR(in.Finish());
  if (t.display_name.size() > 256) {
    return base::InvalidArgumentError(where + "displayName is longer than 256 characters");
  }
  if (assign != nullptr) {
    FieldReader who(*assign, where + "assignTo.");
    t.upn = who.String("id", FieldReader::kRequired);
    OTPD_RETURN_IF_ERROR(who.Finish());
  }
  if (t.serial.empty() || t.serial.size() > 128) {
    return base::InvalidArgumentError(where + "serialNumber must have 1 to 128 characters");
  }
  OTPD_RETURN_IF_ERROR(ApplyParams(params, where, t));
  OTPD_ASSIGN_OR_RETURN(t.seed, DecodeSecretKey(secret, where));
  return t;
}

// AlreadyExists when the inventory holds `serial`: a single device body creates, never replaces.
Status RefuseExisting(const service::TokenInventory& inventory, const std::string& serial) {
  auto existing = inventory.Get(serial);
  if (existing.ok()) {
    return base::AlreadyExistsError("a token with serial number " + existing->serial +
                                    " exists already");
  }
  if (!base::IsNotFound(existing.status())) return existing.status();
  return base::OkStatus();
}

service::ImportOptions DeviceImportOptions(bool dry, bool duplicates, std::string sha256,
                                           const service::Principal& by) {
  service::ImportOptions options;
  options.dry_run = dry;
  options.allow_duplicate_seeds = duplicates;
  options.file_name = "admin API devices";
  options.file_sha256 = std::move(sha256);
  options.format = "json";
  options.principal = by;
  // A device body assigns to a user who exists, as a method is added to one: never creates one.
  options.create_users = false;
  return options;
}

}  // namespace

base::StatusOr<json::object> AdminApi::DeviceJson(const service::TokenRecord& t) const {
  OTPD_ASSIGN_OR_RETURN(service::CredentialState state, service::LoadCredentialState(*s_.store, t));
  json::object o;
  o["@odata.type"] = "#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice";
  o["id"] = t.serial;
  o["displayName"] = t.display_name.empty() ? json::value(nullptr) : json::value(t.display_name);
  o["serialNumber"] = t.serial;
  o["manufacturer"] = t.manufacturer;
  o["model"] = t.model;
  o["secretKey"] = nullptr;
  o["timeIntervalInSeconds"] =
      t.params.type == engine::OtpType::kTotp ? json::value(t.params.period) : json::value(nullptr);
  o["hashFunction"] = HashFunctionName(t.params.algorithm);
  o["status"] = service::TokenStatusName(t.status);
  if (t.assigned_to.empty()) {
    o["assignedTo"] = nullptr;
  } else {
    json::object who;
    who["id"] = t.assigned_to;
    who["displayName"] = t.assigned_to;
    o["assignedTo"] = std::move(who);
  }
  o["lastUsedDateTime"] = OrNull(state.last_used);
  o["type"] = engine::OtpTypeName(t.params.type);
  o["digits"] = t.params.digits;
  if (t.params.type == engine::OtpType::kHotp) o["counter"] = state.token.watermark;
  o["batch"] = t.batch;
  o["activationFailures"] = t.activation_failures;
  o["createdDateTime"] = OrNull(t.created);
  return o;
}

AdminApi::Result AdminApi::ListDevices(Call& c) {
  static const std::set<std::string_view> kFields = {
      "status", "serialNumber", "manufacturer", "model", "batch", "assignedTo/id", "type"};
  OTPD_ASSIGN_OR_RETURN(Paging paging, ReadPaging(c.target, kFields));
  service::TokenFilter filter;
  filter.after = paging.after;
  json::array items;
  std::string last;
  bool more = false;
  Status failed;
  OTPD_RETURN_IF_ERROR(s_.inventory->List(c.by(), filter, [&](const service::TokenRecord& t) {
    const bool keep = Passes(paging.filter, "status", service::TokenStatusName(t.status)) &&
                      Passes(paging.filter, "serialNumber", t.serial) &&
                      Passes(paging.filter, "manufacturer", t.manufacturer) &&
                      Passes(paging.filter, "model", t.model) &&
                      Passes(paging.filter, "batch", t.batch) &&
                      Passes(paging.filter, "assignedTo/id", t.assigned_to) &&
                      Passes(paging.filter, "type", engine::OtpTypeName(t.params.type));
    if (!keep) return true;
    if (items.size() == paging.top) {
      more = true;
      return false;
    }
    auto device = DeviceJson(t);
    if (!device.ok()) {
      failed = device.status();
      return false;
    }
    items.push_back(std::move(*device));
    last = t.serial;
    return true;
  }));
  OTPD_RETURN_IF_ERROR(failed);
  return Json(200,
              Page(std::move(items), more ? NextLink(c.api.origin, kDevices, c.target, last) : ""));
}

AdminApi::Result AdminApi::GetDevice(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(service::TokenRecord token, s_.inventory->Get(c.by(), c.param(0)));
  OTPD_ASSIGN_OR_RETURN(json::object device, DeviceJson(token));
  return Json(200, std::move(device));
}

AdminApi::Result AdminApi::UpdateDevice(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  service::TokenInventory::Update update;
  update.display_name = in.OptionalText("displayName");
  update.manufacturer = in.OptionalText("manufacturer");
  update.model = in.OptionalText("model");
  if (std::optional<int64_t> period = in.OptionalInt("timeIntervalInSeconds", 1, 86400)) {
    update.period = static_cast<uint32_t>(*period);
  }
  if (std::optional<std::string> hash = in.OptionalString("hashFunction")) {
    auto algorithm = engine::ParseHashAlgorithm(*hash);
    if (!algorithm.ok()) {
      return base::InvalidArgumentError("hashFunction must be hmacsha1, hmacsha256 or hmacsha512");
    }
    update.algorithm = *algorithm;
  }
  if (in.OptionalString("secretKey")) {
    return base::InvalidArgumentError("secretKey cannot be changed: import the token again");
  }
  for (std::string_view fixed : {"serialNumber", "status", "assignedTo", "type", "digits"}) {
    if (body.contains(fixed)) {
      return base::InvalidArgumentError(std::string(fixed) + " cannot be changed");
    }
  }
  in.Allow("@odata.type");
  in.Allow("id");
  OTPD_RETURN_IF_ERROR(in.Finish());
  OTPD_RETURN_IF_ERROR(s_.inventory->UpdateToken(c.param(0), update, c.by()).status());
  return NoContent();
}

AdminApi::Result AdminApi::DeleteDevice(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_RETURN_IF_ERROR(s_.inventory->Delete(c.param(0), c.by()));
  return NoContent();
}

namespace {

json::object BatchJson(const service::BatchRecord& b) {
  json::object o;
  o["id"] = b.id;
  o["fileName"] = b.file;
  o["sha256"] = b.sha256;
  o["format"] = b.format;
  o["importedDateTime"] = base::FormatIsoTime(b.time);
  o["imported"] = b.imported;
  o["updated"] = b.updated;
  o["unchanged"] = b.unchanged;
  o["failed"] = b.failed;
  // "incomplete": stopped before its tokens were seen (import the file again, or discard it);
  // "assigning": its tokens are seen, its assignments not all made (import the file again).
  o["status"] = !b.complete ? "incomplete" : b.assigning ? "assigning" : "complete";
  return o;
}

}  // namespace

// Every import batch, the oldest first.
AdminApi::Result AdminApi::ListImportBatches(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  std::vector<service::BatchRecord> batches;
  OTPD_RETURN_IF_ERROR(s_.inventory->ListBatches(c.by(), [&](const service::BatchRecord& b) {
    batches.push_back(b);
    return true;
  }));
  std::stable_sort(batches.begin(), batches.end(),
                   [](const auto& a, const auto& b) { return a.time < b.time; });
  json::array items;
  for (const service::BatchRecord& b : batches) items.push_back(BatchJson(b));
  return Json(200, Page(std::move(items), ""));
}

// Throws away what an import that did not complete stored.
AdminApi::Result AdminApi::DiscardImportBatch(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(uint64_t deleted, s_.inventory->DiscardBatch(c.param(0), c.by()));
  return Json(200, json::object{{"id", c.param(0)}, {"tokensDeleted", deleted}});
}

AdminApi::Result AdminApi::CreateDevices(Call& c) {
  std::string_view type = c.request()[bhttp::field::content_type];
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.empty() || boost::beast::iequals(type, "application/json")) {
    OTPD_ASSIGN_OR_RETURN(json::value body, ParseJsonBody(c.request().body()));
    return ImportJsonDevices(c, body);
  }
  return ImportTokenFile(c);
}

// Graph's way to create many devices: PATCH of the collection with a #$delta body. All or
// nothing as far as can be checked: every entry is read, then the whole list is tried without
// writing, and only a list that would import completely is written.
AdminApi::Result AdminApi::CreateDevicesDelta(Call& c) {
  OTPD_RETURN_IF_ERROR(c.NoQuery());
  OTPD_ASSIGN_OR_RETURN(json::object body, c.Body());
  FieldReader in(body);
  const std::string context = in.String("@context", FieldReader::kRequired);
  in.Allow("value");
  OTPD_RETURN_IF_ERROR(in.Finish());
  if (context != "#$delta") {
    return base::InvalidArgumentError("@context must be \"#$delta\" to create devices");
  }
  if (!body.at("value").is_array() || body.at("value").as_array().empty()) {
    return base::InvalidArgumentError("value must be a non-empty array of devices");
  }
  std::vector<std::string> serials;
  for (bool dry : {true, false}) {
    // Read afresh for each pass: feeding an importer takes the seeds out of the list.
    OTPD_ASSIGN_OR_RETURN(service::TokenFile file, ReadDeviceList(c, body.at("value"), "value"));
    serials.clear();
    for (const tokenio::TokenRecord& t : file.rows.tokens) {
      // Creating never replaces: a serial that exists refuses the list.
      if (Status s = RefuseExisting(*s_.inventory, t.serial); !s.ok()) {
        return s.WithContext("value[" + std::to_string(serials.size()) + "]");
      }
      serials.push_back(t.serial);
    }
    service::Importer importer(*s_.store, *s_.keys, *s_.clock, s_.inventory_options,
                               DeviceImportOptions(dry, false, file.sha256, c.by()),
                               s_.invalidator);
    OTPD_RETURN_IF_ERROR(service::FeedImporter(file, importer));
    OTPD_ASSIGN_OR_RETURN(service::ImportReport report, importer.Finish());
    if (report.failed == 0) continue;
    const tokenio::RowError& first = report.failures.front();
    std::string where = "value[" + std::to_string(first.position - 1) + "]: " + first.reason;
    if (dry) return base::InvalidArgumentError(where + "; no device was created");
    return base::AbortedError(where + "; it changed meanwhile, and " +
                              std::to_string(report.imported) + " of the list were created");
  }
  json::array created;
  for (const std::string& serial : serials) {
    OTPD_ASSIGN_OR_RETURN(service::TokenRecord token, s_.inventory->Get(serial));
    OTPD_ASSIGN_OR_RETURN(json::object device, DeviceJson(token));
    created.push_back(std::move(device));
  }
  return Json(200, json::object{{"value", std::move(created)}});
}

// Reads every device of a JSON list; errors name the entry after `where` ("[2]." or "value[2].").
base::StatusOr<service::TokenFile> AdminApi::ReadDeviceList(const Call& c, const json::value& list,
                                                            std::string_view where) {
  OTPD_ASSIGN_OR_RETURN(std::vector<const json::object*> objects, DeviceObjects(list));
  service::TokenFile file;
  file.format = tokenio::Format::kOathCsv;  // nominal: rows are counted by position
  file.sha256 = base::HexEncode(base::Sha256(c.request().body()));
  for (size_t i = 0; i < objects.size(); ++i) {
    const std::string at =
        list.is_object() ? "" : std::string(where) + "[" + std::to_string(i) + "].";
    OTPD_ASSIGN_OR_RETURN(tokenio::TokenRecord t, ReadDevice(*objects[i], at));
    t.position = i + 1;
    file.rows.tokens.push_back(std::move(t));
  }
  return file;
}

AdminApi::Result AdminApi::ImportTokenFile(Call& c) {
  OTPD_RETURN_IF_ERROR(
      OnlyParameters(c.target, {"format", "replace", "allowDuplicateSeeds", "dryRun", "fileName"}));
  std::optional<tokenio::Format> format;
  std::string_view type = c.request()[bhttp::field::content_type];
  if (std::optional<std::string_view> f = c.target.Param("format")) {
    OTPD_ASSIGN_OR_RETURN(format, tokenio::ParseFormatName(*f));
  } else if (type.starts_with("application/pskc+xml")) {
    format = tokenio::Format::kPskc;
  } else if (!type.starts_with("text/csv") && !type.starts_with("application/xml") &&
             !type.starts_with("text/xml") && !type.starts_with("application/octet-stream")) {
    return base::InvalidArgumentError(
        "Content-Type must be application/json (devices), text/csv (Entra or OATH CSV) or "
        "application/pskc+xml (PSKC)");
  }
  tokenio::PskcSecrets secrets;
  secrets.now_unix = s_.clock->NowUnixSeconds();
  if (std::string_view key = c.request()["X-Otpd-Pskc-Key"]; !key.empty()) {
    auto decoded = base::HexDecode(key);
    if (!decoded.ok() ||
        (decoded->size() != 16 && decoded->size() != 24 && decoded->size() != 32)) {
      return base::InvalidArgumentError(
          "X-Otpd-Pskc-Key must be an AES key of 16, 24 or 32 bytes in hex");
    }
    secrets.pre_shared_key = std::move(*decoded);
  }
  if (std::string_view password = c.request()["X-Otpd-Pskc-Password"]; !password.empty()) {
    secrets.password = base::SecretBytes::FromString(password);
  }
  OTPD_ASSIGN_OR_RETURN(bool dry, Switch(c.target, "dryRun"));
  OTPD_ASSIGN_OR_RETURN(bool replace, Switch(c.target, "replace"));
  OTPD_ASSIGN_OR_RETURN(bool duplicates, Switch(c.target, "allowDuplicateSeeds"));

  auto file = service::ParseTokenBytes(c.request().body(), format, secrets);
  if (!file.ok()) return file.status().WithContext("the token file");
  service::ImportOptions options;
  options.dry_run = dry;
  options.replace = replace;
  options.allow_duplicate_seeds = duplicates;
  options.file_name = std::string(c.target.Param("fileName").value_or("admin API upload"));
  options.file_sha256 = file->sha256;
  options.format = std::string(tokenio::FormatName(file->format));
  options.principal = c.by();
  service::Importer importer(*s_.store, *s_.keys, *s_.clock, s_.inventory_options, options,
                             s_.invalidator);
  OTPD_RETURN_IF_ERROR(service::FeedImporter(*file, importer));
  OTPD_ASSIGN_OR_RETURN(service::ImportReport report, importer.Finish());
  return Json(200, ReportJson(report, tokenio::FormatName(file->format), dry));
}

AdminApi::Result AdminApi::ImportJsonDevices(Call& c, const json::value& body) {
  OTPD_RETURN_IF_ERROR(OnlyParameters(c.target, {"allowDuplicateSeeds", "dryRun"}));
  OTPD_ASSIGN_OR_RETURN(bool dry, Switch(c.target, "dryRun"));
  OTPD_ASSIGN_OR_RETURN(bool duplicates, Switch(c.target, "allowDuplicateSeeds"));
  const bool single = body.is_object();

  // Every object is checked before anything is stored: a malformed one refuses the whole request.
  OTPD_ASSIGN_OR_RETURN(service::TokenFile file, ReadDeviceList(c, body, ""));
  const std::string first_serial = file.rows.tokens.front().serial;
  if (single && !dry) OTPD_RETURN_IF_ERROR(RefuseExisting(*s_.inventory, first_serial));

  service::Importer importer(*s_.store, *s_.keys, *s_.clock, s_.inventory_options,
                             DeviceImportOptions(dry, duplicates, file.sha256, c.by()),
                             s_.invalidator);
  OTPD_RETURN_IF_ERROR(service::FeedImporter(file, importer));
  OTPD_ASSIGN_OR_RETURN(service::ImportReport report, importer.Finish());
  if (!single) return Json(200, ReportJson(report, "json", dry));
  if (report.failed > 0) {
    const std::string& reason = report.failures.front().reason;
    if (reason.starts_with("no user ")) return base::NotFoundError(reason);
    return base::InvalidArgumentError(reason);
  }
  if (dry) return Json(200, ReportJson(report, "json", dry));
  OTPD_ASSIGN_OR_RETURN(service::TokenRecord token, s_.inventory->Get(first_serial));
  OTPD_ASSIGN_OR_RETURN(json::object device, DeviceJson(token));
  ApiResponse r = Json(201, std::move(device));
  r.headers.emplace_back("Location",
                         c.Link(std::string(kDevices) + "/" + PercentEncode(first_serial)));
  return r;
}

}  // namespace otpd::server::admin
