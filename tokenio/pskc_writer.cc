#include <string>
#include <utility>
#include <vector>

#include "base/codec.h"
#include "base/seal.h"
#include "tokenio/internal/crypto.h"
#include "tokenio/internal/csv_reader.h"
#include "tokenio/internal/datetime.h"
#include "tokenio/pskc.h"

namespace otpd::tokenio {

namespace {

constexpr uint32_t kMinIterations = 1000;
constexpr size_t kSaltBytes = 16;
constexpr std::string_view kPbkdf2Uri =
    "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2";

internal::Cipher ToCipher(PskcCipher c) {
  using internal::CipherMode;
  switch (c) {
    case PskcCipher::kAes128Cbc:
      return {CipherMode::kCbc, 16};
    case PskcCipher::kAes192Cbc:
      return {CipherMode::kCbc, 24};
    case PskcCipher::kAes256Cbc:
      return {CipherMode::kCbc, 32};
    case PskcCipher::kKwAes128Pad:
      return {CipherMode::kKeyWrapPad, 16};
    case PskcCipher::kKwAes256Pad:
      return {CipherMode::kKeyWrapPad, 32};
  }
  return {CipherMode::kCbc, 16};
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

struct PskcWriter::State {
  std::ostream* out = nullptr;
  PskcWriterOptions options;
  internal::Cipher cipher;
  base::SecretBytes encryption_key;
  base::SecretBytes mac_key;
  bool finished = false;

  bool encrypted() const { return options.protection != PskcProtection::kNone; }

  // <xenc:EncryptionMethod/><xenc:CipherData>...</xenc:CipherData> for `plaintext`, and the
  // base64 of its MAC in `mac`.
  base::StatusOr<std::string> EncryptedBody(std::span<const uint8_t> plaintext, std::string* mac) {
    OTPD_ASSIGN_OR_RETURN(std::vector<uint8_t> data,
                          internal::Encrypt(cipher, encryption_key, plaintext));
    if (mac != nullptr) {
      OTPD_ASSIGN_OR_RETURN(base::SecretBytes m, internal::Hmac(options.mac, mac_key, data));
      *mac = base::Base64Encode(m.span());
    }
    return "<xenc:EncryptionMethod Algorithm=\"" + internal::CipherUri(cipher) +
           "\"/><xenc:CipherData><xenc:CipherValue>" + base::Base64Encode(data) +
           "</xenc:CipherValue></xenc:CipherData>";
  }

  base::Status Check() const {
    if (!*out) return base::DataLossError("write error while exporting PSKC");
    return base::OkStatus();
  }
};

PskcWriter::PskcWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
PskcWriter::~PskcWriter() = default;

base::StatusOr<std::unique_ptr<PskcWriter>> PskcWriter::Create(std::ostream& out,
                                                               PskcWriterOptions options) {
  auto state = std::make_unique<State>();
  state->out = &out;
  state->cipher = ToCipher(options.cipher);
  std::string encryption_key_xml;
  std::string key_name = Escape(options.key_name);
  if (options.protection == PskcProtection::kPreSharedKey) {
    if (options.key.size() != state->cipher.key_size) {
      return base::InvalidArgumentError("the pre-shared key for " +
                                        internal::CipherName(state->cipher) + " must be " +
                                        std::to_string(state->cipher.key_size) + " bytes");
    }
    state->encryption_key = options.key.Clone();
    encryption_key_xml = "<pskc:EncryptionKey>" +
                         (key_name.empty() ? "" : "<ds:KeyName>" + key_name + "</ds:KeyName>") +
                         "</pskc:EncryptionKey>\n";
  } else if (options.protection == PskcProtection::kPassword) {
    if (options.key.empty()) return base::InvalidArgumentError("the export password is empty");
    if (options.pbkdf2_iterations < kMinIterations) {
      return base::InvalidArgumentError("PBKDF2 needs at least 1000 iterations");
    }
    uint8_t salt[kSaltBytes];
    OTPD_RETURN_IF_ERROR(base::RandomBytes(salt));
    OTPD_ASSIGN_OR_RETURN(state->encryption_key,
                          internal::Pbkdf2(engine::HashAlgorithm::kSha1, options.key, salt,
                                           options.pbkdf2_iterations, state->cipher.key_size));
    encryption_key_xml =
        "<pskc:EncryptionKey><xenc11:DerivedKey><xenc11:KeyDerivationMethod Algorithm=\"" +
        std::string(kPbkdf2Uri) + "\"><pkcs5:PBKDF2-params><Salt><Specified>" +
        base::Base64Encode(salt) + "</Specified></Salt><IterationCount>" +
        std::to_string(options.pbkdf2_iterations) + "</IterationCount><KeyLength>" +
        std::to_string(state->cipher.key_size) +
        "</KeyLength></pkcs5:PBKDF2-params></xenc11:KeyDerivationMethod>" +
        (key_name.empty() ? "" : "<xenc11:MasterKeyName>" + key_name + "</xenc11:MasterKeyName>") +
        "</xenc11:DerivedKey></pskc:EncryptionKey>\n";
  }
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<pskc:KeyContainer xmlns:pskc=\"urn:ietf:params:xml:ns:keyprov:pskc\" "
         "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" "
         "xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" "
         "xmlns:xenc11=\"http://www.w3.org/2009/xmlenc11#\" "
         "xmlns:pkcs5=\"http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#\" "
         "Version=\"1.0\">\n"
      << encryption_key_xml;
  state->options = std::move(options);
  if (state->encrypted()) {
    state->mac_key = base::SecretBytes(engine::HashOutputSize(state->options.mac));
    OTPD_RETURN_IF_ERROR(base::RandomBytes(state->mac_key.mutable_span()));
    OTPD_ASSIGN_OR_RETURN(std::string body, state->EncryptedBody(state->mac_key.span(), nullptr));
    out << "<pskc:MACMethod Algorithm=\"" << internal::MacUri(state->options.mac)
        << "\"><pskc:MACKey>" << body << "</pskc:MACKey></pskc:MACMethod>\n";
  }
  OTPD_RETURN_IF_ERROR(state->Check());
  return std::unique_ptr<PskcWriter>(new PskcWriter(std::move(state)));
}

base::Status PskcWriter::Add(const TokenRecord& token) {
  State& s = *state_;
  if (s.finished) return base::FailedPreconditionError("PskcWriter::Add after Finish");
  const engine::OtpParams& p = token.params;
  OTPD_RETURN_IF_ERROR(p.Validate());
  std::ostream& out = *s.out;
  out << "<pskc:KeyPackage><pskc:DeviceInfo>";
  if (!token.manufacturer.empty()) {
    out << "<pskc:Manufacturer>" << Escape(token.manufacturer) << "</pskc:Manufacturer>";
  }
  out << "<pskc:SerialNo>" << Escape(token.serial) << "</pskc:SerialNo>";
  if (!token.model.empty()) out << "<pskc:Model>" << Escape(token.model) << "</pskc:Model>";
  out << "</pskc:DeviceInfo>\n<pskc:Key Id=\"" << Escape(token.serial)
      << "\" Algorithm=\"urn:ietf:params:xml:ns:keyprov:pskc:" << engine::OtpTypeName(p.type)
      << "\"><pskc:AlgorithmParameters>";
  if (p.algorithm != engine::HashAlgorithm::kSha1) {
    out << "<pskc:Suite>HMAC-" << engine::HashAlgorithmName(p.algorithm) << "</pskc:Suite>";
  }
  out << "<pskc:ResponseFormat Length=\"" << p.digits
      << "\" Encoding=\"DECIMAL\"/></pskc:AlgorithmParameters>\n<pskc:Data><pskc:Secret>";
  if (s.encrypted()) {
    std::string mac;
    OTPD_ASSIGN_OR_RETURN(std::string body, s.EncryptedBody(token.seed.span(), &mac));
    out << "<pskc:EncryptedValue>" << body << "</pskc:EncryptedValue><pskc:ValueMAC>" << mac
        << "</pskc:ValueMAC>";
  } else {
    std::string plain = base::Base64Encode(token.seed.span());
    out << "<pskc:PlainValue>" << plain << "</pskc:PlainValue>";
    internal::WipeString(&plain);
  }
  out << "</pskc:Secret>";
  auto plain_int = [&out](std::string_view name, int64_t v) {
    out << "<pskc:" << name << "><pskc:PlainValue>" << v << "</pskc:PlainValue></pskc:" << name
        << ">";
  };
  if (p.type == engine::OtpType::kHotp) {
    plain_int("Counter", static_cast<int64_t>(token.counter));
  } else {
    if (p.t0 != 0) plain_int("Time", p.t0);
    plain_int("TimeInterval", p.period);
    if (token.time_drift != 0) plain_int("TimeDrift", token.time_drift);
  }
  out << "</pskc:Data>";
  if (!token.upn.empty()) out << "<pskc:UserId>" << Escape(token.upn) << "</pskc:UserId>";
  if (token.not_before || token.not_after) {
    out << "<pskc:Policy>";
    if (token.not_before) {
      out << "<pskc:StartDate>" << internal::FormatXsDateTime(*token.not_before)
          << "</pskc:StartDate>";
    }
    if (token.not_after) {
      out << "<pskc:ExpiryDate>" << internal::FormatXsDateTime(*token.not_after)
          << "</pskc:ExpiryDate>";
    }
    out << "</pskc:Policy>";
  }
  out << "</pskc:Key></pskc:KeyPackage>\n";
  return s.Check();
}

base::Status PskcWriter::Finish() {
  State& s = *state_;
  if (s.finished) return base::OkStatus();
  s.finished = true;
  *s.out << "</pskc:KeyContainer>\n";
  s.out->flush();
  return s.Check();
}

}  // namespace otpd::tokenio
