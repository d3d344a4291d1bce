// ParsePskc: expat SAX handlers collect one KeyPackage at a time into a PskcKeyPackage and hand
// it to the PskcDecoder at its end tag.

#include <expat.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenio/internal/pskc_decoder.h"
#include "tokenio/internal/pskc_model.h"
#include "tokenio/internal/record_checker.h"
#include "tokenio/internal/text.h"
#include "tokenio/pskc.h"

namespace otpd::tokenio {

namespace {

using internal::PskcValue;

constexpr std::string_view kPskcNs = "urn:ietf:params:xml:ns:keyprov:pskc";
constexpr std::string_view kPskcDraftNs = "urn:ietf:params:xml:ns:keyprov:pskc:1.0";
constexpr char kNsSeparator = ' ';  // cannot occur in a namespace URI
constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxText = 64 * 1024;
constexpr size_t kChunk = 64 * 1024;

std::string_view LocalName(const XML_Char* name) {
  std::string_view n(name);
  size_t sep = n.rfind(kNsSeparator);
  return sep == std::string_view::npos ? n : n.substr(sep + 1);
}

std::string_view Namespace(const XML_Char* name) {
  std::string_view n(name);
  size_t sep = n.rfind(kNsSeparator);
  return sep == std::string_view::npos ? std::string_view() : n.substr(0, sep);
}

std::string Attribute(const XML_Char** attrs, std::string_view local) {
  for (size_t i = 0; attrs[i] != nullptr; i += 2) {
    if (LocalName(attrs[i]) == local) return attrs[i + 1];
  }
  return {};
}

bool HasAttribute(const XML_Char** attrs, std::string_view local) {
  for (size_t i = 0; attrs[i] != nullptr; i += 2) {
    if (LocalName(attrs[i]) == local) return true;
  }
  return false;
}

class PskcReader {
 public:
  PskcReader(const PskcSecrets& secrets, TokenSink* sink)
      : checker_("KeyPackage", sink), decoder_(secrets, container_, &checker_) {}

  base::Status Run(std::istream& in);

 private:
  enum class Zone { kNone, kEncryptionKey, kMacMethod, kKeyPackage };

  static void XMLCALL OnStart(void* self, const XML_Char* name, const XML_Char** attrs) {
    static_cast<PskcReader*>(self)->Start(name, attrs);
  }
  static void XMLCALL OnEnd(void* self, const XML_Char* name) {
    static_cast<PskcReader*>(self)->End(name);
  }
  static void XMLCALL OnText(void* self, const XML_Char* text, int len) {
    static_cast<PskcReader*>(self)->Text(std::string_view(text, static_cast<size_t>(len)));
  }
  static void XMLCALL OnDoctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*,
                                int) {
    static_cast<PskcReader*>(self)->Fail(
        base::InvalidArgumentError("DTDs (<!DOCTYPE>) are not accepted in PSKC files"));
  }

  void Start(const XML_Char* name, const XML_Char** attrs);
  void StartContainerChild(std::string_view local, const XML_Char** attrs);
  void StartEncryptionKey(std::string_view local, const XML_Char** attrs);
  void StartPackage(std::string_view local, const XML_Char** attrs);
  void StartValueChild(std::string_view local, const XML_Char** attrs);
  void End(const XML_Char* name);
  void Text(std::string_view text);
  // Collects the text of the element just opened into `target` (a repeated element: the last
  // one wins).
  void Capture(std::string* target) {
    target->clear();
    text_ = target, capture_depth_ = depth_;
  }
  void CaptureSecret(internal::SecretText* target) {
    target->Clear();
    secret_text_ = target, capture_depth_ = depth_;
  }
  void Fail(base::Status status);
  std::string Where() const;

  XML_Parser parser_ = nullptr;
  base::Status error_;
  internal::PskcContainer container_;
  internal::PskcKeyPackage package_;
  internal::RecordChecker checker_;
  internal::PskcDecoder decoder_;
  std::vector<std::string> path_;  // local names of the open elements
  size_t depth_ = 0;
  Zone zone_ = Zone::kNone;
  PskcValue* value_ = nullptr;  // the value element (Secret, Counter, MACKey...) we are inside
  size_t value_depth_ = 0;
  std::string* text_ = nullptr;
  internal::SecretText* secret_text_ = nullptr;
  size_t capture_depth_ = 0;
  size_t packages_ = 0;
  bool root_seen_ = false;
};

std::string PskcReader::Where() const {
  return "line " + std::to_string(XML_GetCurrentLineNumber(parser_));
}

void PskcReader::Fail(base::Status status) {
  if (error_.ok()) error_ = std::move(status);
  XML_StopParser(parser_, XML_FALSE);
}

void PskcReader::Start(const XML_Char* name, const XML_Char** attrs) {
  if (!error_.ok()) return;
  std::string_view local = LocalName(name);
  ++depth_;
  if (depth_ > kMaxDepth) {
    return Fail(base::InvalidArgumentError("elements nested too deeply at " + Where()));
  }
  path_.emplace_back(local);
  if (depth_ == 1) {
    std::string_view ns = Namespace(name);
    if (local != "KeyContainer" || (ns != kPskcNs && ns != kPskcDraftNs)) {
      return Fail(
          base::InvalidArgumentError("not a PSKC file: the root element is not a "
                                     "KeyContainer in namespace " +
                                     std::string(kPskcNs)));
    }
    root_seen_ = true;
    return;
  }
  if (depth_ == 2) return StartContainerChild(local, attrs);
  if (value_ != nullptr) return StartValueChild(local, attrs);
  switch (zone_) {
    case Zone::kEncryptionKey:
      return StartEncryptionKey(local, attrs);
    case Zone::kMacMethod:
      if (depth_ == 3 && local == "MACKey") {
        value_ = &container_.mac_key;
        value_depth_ = depth_;
        value_->present = true;
      }
      return;
    case Zone::kKeyPackage:
      return StartPackage(local, attrs);
    case Zone::kNone:
      return;
  }
}

void PskcReader::StartContainerChild(std::string_view local, const XML_Char** attrs) {
  if (local == "EncryptionKey") {
    zone_ = Zone::kEncryptionKey;
    container_.has_encryption_key = true;
  } else if (local == "MACMethod") {
    zone_ = Zone::kMacMethod;
    container_.has_mac_method = true;
    container_.mac_algorithm = Attribute(attrs, "Algorithm");
  } else if (local == "KeyPackage") {
    zone_ = Zone::kKeyPackage;
    package_.Reset(++packages_);
  }
}

void PskcReader::StartEncryptionKey(std::string_view local, const XML_Char** attrs) {
  const std::string& parent = path_[path_.size() - 2];
  if (depth_ == 3) {
    if (local == "KeyName") {
      Capture(&container_.key_name);
    } else if (local == "DerivedKey") {
      container_.derived_key = true;
    } else {
      container_.unsupported_key = true;  // EncryptedKey, X509Data...
    }
  } else if (local == "KeyDerivationMethod") {
    container_.kdf_algorithm = Attribute(attrs, "Algorithm");
  } else if (local == "Specified" && parent == "Salt") {
    Capture(&container_.salt);
  } else if (local == "IterationCount") {
    Capture(&container_.iteration_count);
  } else if (local == "KeyLength") {
    Capture(&container_.key_length);
  } else if (local == "PRF") {
    container_.prf_algorithm = Attribute(attrs, "Algorithm");
  } else if (local == "MasterKeyName") {
    Capture(&container_.key_name);
  }
}

void PskcReader::StartPackage(std::string_view local, const XML_Char** attrs) {
  const std::string& parent = path_[path_.size() - 2];
  internal::PskcKeyPackage& p = package_;
  if (depth_ == 3 && local == "Key") {
    ++p.keys;
    p.key_id = HasAttribute(attrs, "Id") ? Attribute(attrs, "Id") : Attribute(attrs, "KeyId");
    p.algorithm = HasAttribute(attrs, "Algorithm") ? Attribute(attrs, "Algorithm")
                                                   : Attribute(attrs, "KeyAlgorithm");
  } else if (parent == "DeviceInfo" && depth_ == 4) {
    if (local == "Manufacturer") Capture(&p.manufacturer);
    if (local == "SerialNo") Capture(&p.serial_no);
    if (local == "Model") Capture(&p.model);
    if (local == "UserId") Capture(&p.user_id);
  } else if (parent == "Key" && depth_ == 4 && local == "UserId") {
    Capture(&p.user_id);
  } else if (parent == "AlgorithmParameters") {
    if (local == "Suite") Capture(&p.suite);
    if (local == "ResponseFormat") {
      p.has_response_format = true;
      if (HasAttribute(attrs, "Length")) p.length = Attribute(attrs, "Length");
      if (HasAttribute(attrs, "Encoding")) p.encoding = Attribute(attrs, "Encoding");
    }
  } else if (parent == "Data" && depth_ == 5) {
    PskcValue* v = local == "Secret"         ? &p.secret
                   : local == "Counter"      ? &p.counter
                   : local == "Time"         ? &p.time
                   : local == "TimeInterval" ? &p.time_interval
                   : local == "TimeDrift"    ? &p.time_drift
                                             : nullptr;
    if (v != nullptr) {
      value_ = v;
      value_depth_ = depth_;
      v->present = true;
    }
  } else if (parent == "Policy") {
    if (local == "StartDate") Capture(&p.start_date);
    if (local == "ExpiryDate") Capture(&p.expiry_date);
    if (local == "PINPolicy") p.pin_usage_mode = Attribute(attrs, "PINUsageMode");
  }
}

void PskcReader::StartValueChild(std::string_view local, const XML_Char** attrs) {
  if (local == "PlainValue") {
    CaptureSecret(&value_->plain);
  } else if (local == "EncryptedValue") {
    value_->encrypted = true;
  } else if (local == "EncryptionMethod") {
    value_->encrypted = true;  // MACKey holds the xenc elements directly
    value_->algorithm = Attribute(attrs, "Algorithm");
  } else if (local == "CipherValue") {
    Capture(&value_->cipher);
  } else if (local == "ValueMAC") {
    Capture(&value_->mac);
  }
}

void PskcReader::Text(std::string_view text) {
  if (!error_.ok() || depth_ != capture_depth_) return;
  if (text_ != nullptr) {
    if (text_->size() + text.size() > kMaxText) {
      return Fail(base::InvalidArgumentError("element text too long at " + Where()));
    }
    text_->append(text);
  } else if (secret_text_ != nullptr) {
    if (secret_text_->size() + text.size() > kMaxText) {
      return Fail(base::InvalidArgumentError("element text too long at " + Where()));
    }
    secret_text_->Append(text);
  }
}

void PskcReader::End(const XML_Char* /*name*/) {
  if (!error_.ok()) return;
  if (depth_ == capture_depth_) {
    text_ = nullptr;
    secret_text_ = nullptr;
    capture_depth_ = 0;
  }
  if (value_ != nullptr && depth_ == value_depth_) value_ = nullptr;
  if (depth_ == 2) {
    if (zone_ == Zone::kKeyPackage) {
      base::Status s = decoder_.Process(package_);
      package_.Reset(0);  // wipes the secret text as soon as it has been used
      if (!s.ok()) return Fail(std::move(s));
    }
    zone_ = Zone::kNone;
  }
  path_.pop_back();
  --depth_;
}

base::Status PskcReader::Run(std::istream& in) {
  if (!in.good()) return base::DataLossError("the PSKC file cannot be read");
  parser_ = XML_ParserCreateNS(nullptr, kNsSeparator);
  if (parser_ == nullptr) return base::ResourceExhaustedError("cannot create an XML parser");
  XML_SetUserData(parser_, this);
  XML_SetElementHandler(parser_, &OnStart, &OnEnd);
  XML_SetCharacterDataHandler(parser_, &OnText);
  XML_SetStartDoctypeDeclHandler(parser_, &OnDoctype);
  XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
  bool done = false;
  while (!done && error_.ok()) {
    void* buf = XML_GetBuffer(parser_, static_cast<int>(kChunk));
    if (buf == nullptr) {
      error_ = base::ResourceExhaustedError("out of memory while parsing XML");
      break;
    }
    in.read(static_cast<char*>(buf), static_cast<std::streamsize>(kChunk));
    if (in.bad()) {
      error_ = base::DataLossError("read error in the PSKC file");
      break;
    }
    std::streamsize n = in.gcount();
    done = in.eof() || n == 0;
    if (XML_ParseBuffer(parser_, static_cast<int>(n), done ? XML_TRUE : XML_FALSE) !=
            XML_STATUS_OK &&
        error_.ok()) {
      error_ = base::InvalidArgumentError(
          "not well-formed XML at line " + std::to_string(XML_GetCurrentLineNumber(parser_)) +
          ", column " + std::to_string(XML_GetCurrentColumnNumber(parser_)) + ": " +
          XML_ErrorString(XML_GetErrorCode(parser_)));
    }
  }
  XML_ParserFree(parser_);
  parser_ = nullptr;
  package_.Reset(0);
  container_.mac_key.Reset();
  OTPD_RETURN_IF_ERROR(error_);
  if (!root_seen_) return base::InvalidArgumentError("not a PSKC file: no KeyContainer");
  if (packages_ == 0) return base::InvalidArgumentError("the KeyContainer has no KeyPackage");
  return decoder_.Finish();
}

}  // namespace

base::Status ParsePskc(std::istream& in, const PskcSecrets& secrets, TokenSink* sink) {
  PskcReader reader(secrets, sink);
  return reader.Run(in);
}

}  // namespace otpd::tokenio
