// No seed ever reaches what an administrator sees: malformed token files whose seeds are known
// (shifted columns, other separators, broken quoting, PSKC with the seed in odd places) are
// imported with the real otpctl, and none of the seeds may appear, in hex, base32 or base64,
// in its standard output, standard error, failures file or JSON output.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/codec.h"
#include "tests/tools/otpctl_env.h"

namespace otpd::tools {
namespace {

using otpd::testing::RunResult;

// Distinct 20-byte seeds; seed i is i+1 repeated with a counter, so every encoding differs.
std::vector<uint8_t> Seed(int i) {
  std::vector<uint8_t> s(20);
  for (size_t k = 0; k < s.size(); ++k) s[k] = static_cast<uint8_t>(0x11 * (i + 1) + 7 * k);
  return s;
}
std::string B32(int i) { return base::Base32Encode(Seed(i), /*pad=*/false); }
std::string Hex(int i) { return base::HexEncode(Seed(i)); }
std::string B64(int i) { return base::Base64Encode(Seed(i)); }
constexpr int kSeeds = 40;
// A valid seed that is not secret for this test (it may be echoed in no way either, but it is
// not checked): the demo seed.
constexpr char kOkB32[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
constexpr char kOkHex[] = "3132333435363738393031323334353637383930";
constexpr char kOkB64[] = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=";

// Every way a seed could be written, and every 16-character piece of each, so that a value cut
// at 40 characters or split across a line is found too.
std::vector<std::string> Needles() {
  std::vector<std::string> out;
  for (int i = 0; i < kSeeds; ++i) {
    std::string b32 = B32(i), hex = Hex(i), b64 = B64(i);
    std::string lower_b32 = b32, upper_hex = hex;
    for (char& c : lower_b32) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : upper_hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const std::string& whole : {b32, lower_b32, hex, upper_hex, b64}) {
      for (size_t at = 0; at + 16 <= whole.size(); ++at) out.push_back(whole.substr(at, 16));
    }
  }
  return out;
}

struct Case {
  std::string name;
  std::string file;
  std::vector<std::string> extra;  // e.g. --format, --psk-file
};

std::string Entra(const std::vector<std::string>& rows, bool hash_column = false) {
  std::string out = "upn,serial number,secret key,time interval,manufacturer,model";
  out += hash_column ? ",hash function\n" : "\n";
  for (const std::string& r : rows) out += r + "\n";
  return out;
}

std::string Pskc(const std::string& packages, const std::string& head = "") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<KeyContainer Version=\"1.0\" xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">\n" +
         head + packages + "</KeyContainer>\n";
}

// One KeyPackage; each argument replaces a piece of a valid package.
std::string Package(
    const std::string& serial, const std::string& algorithm, const std::string& secret_xml,
    const std::string& suite = "",
    const std::string& response = "<ResponseFormat Length=\"6\" Encoding=\"DECIMAL\"/>",
    const std::string& policy = "", const std::string& key_id = "K1") {
  return "<KeyPackage><DeviceInfo><Manufacturer>Acme</Manufacturer>" +
         (serial.empty() ? std::string() : "<SerialNo>" + serial + "</SerialNo>") +
         "</DeviceInfo><Key Id=\"" + key_id + "\" Algorithm=\"" + algorithm +
         "\"><AlgorithmParameters>" +
         (suite.empty() ? std::string() : "<Suite>" + suite + "</Suite>") + response +
         "</AlgorithmParameters><Data>" + secret_xml +
         "<Counter><PlainValue>0</PlainValue></Counter></Data>" + policy + "</Key></KeyPackage>\n";
}

std::string Plain(const std::string& b64) {
  return "<Secret><PlainValue>" + b64 + "</PlainValue></Secret>";
}

constexpr char kHotp[] = "urn:ietf:params:xml:ns:keyprov:pskc:hotp";

std::vector<Case> Corpus() {
  std::vector<Case> cases;
  // Entra CSV.
  cases.push_back({"entra-shifted.csv",
                   Entra({
                       "E-SER0," + B32(0) + ",30,Acme,K1",                       // no upn
                       "e1@example.com," + B32(1) + ",30,Acme,K1",               // no serial
                       "," + B32(2) + ",ABCDEFGH,30,Acme,K1",                    // swapped
                       "e3@example.com,E-SER3,NOT!BASE32,30," + B32(3) + ",K1",  // in maker
                       "e4@example.com,\"E-SER4\"x," + B32(4) + ",30,Acme,K1",   // quoting
                       "e5@example.com,E-SER5," + std::string(kOkB32) + "," + B32(5) + ",Acme,K1",
                       "e6@example.com;E-SER6;" + B32(6) + ";30;Acme;K1",  // separator
                       B32(7) + "@example.com,E-SER7," + std::string(kOkB32) + ",30,Acme,K1",
                       "E-SER8," + B32(8) + ",30,Acme,K1,",                    // shifted left
                       "e9@example.com,E-SER9,\"" + B32(9) + ",30,Acme,K1\"",  // quote spans
                       "e10@example.com,E-SER10," + B32(10) + "," + B32(10) + ",Acme,K1",
                   }),
                   {}});
  cases.push_back(
      {"entra-hash.csv",
       Entra({"e11@example.com,E-SER11," + std::string(kOkB32) + ",30,Acme,K1," + B32(11)},
             /*hash_column=*/true),
       {}});
  cases.push_back({"entra-open-quote.csv",
                   Entra({"e12@example.com,E-SER12," + std::string(kOkB32) + ",30,Acme,K1",
                          "e13@example.com,\"E-SER13," + B32(13) + ",30,Acme,K1"}),
                   {}});
  // OATH CSV.
  cases.push_back({"oath-shifted.csv",
                   "serial,seed,type,digits,step\n"
                   "O-SER14;" +
                       Hex(14) + ";hotp;6;0\n" +                               // separator
                       Hex(15) + ",hotp,6,0\n" +                               // no serial
                       Hex(16) + ",O-SER16,totp,6,30\n" +                      // swapped
                       "O-SER17," + kOkHex + "," + Hex(17) + ",6,30\n" +       // in type
                       "O-SER18," + kOkHex + ",totp,6,30," + Hex(18) + "\n" +  // in algorithm
                       "O-SER19,\"" + Hex(19) + "\"x,hotp,6,0\n" +             // quoting
                       B32(20) + "," + kOkHex + ",hotp,6,0\n" +                // seed as serial
                       Hex(21) + "," + Hex(21) + ",hotp,6,0\n" +               // seed as serial
                       B64(22) + "," + kOkHex + ",hotp,6,0\n" +                // seed as serial
                       "O-SER23\t" + Hex(23) + "\thotp\n",                     // TAB
                   {"--format", "oath-csv"}});
  // PSKC.
  cases.push_back(
      {"pskc-odd.xml",
       Pskc(
           Package(B64(24), kHotp, "") +                        // no Secret
           Package("P-SER25", B64(25), Plain(kOkB64)) +         // algorithm
           Package("P-SER26", kHotp, Plain(kOkB64), B64(26)) +  // suite
           Package("P-SER27", kHotp, Plain(kOkB64), "",
                   "<ResponseFormat Length=\"6\" Encoding=\"" + B64(27) + "\"/>") +
           Package("P-SER28", kHotp, Plain(kOkB64), "",
                   "<ResponseFormat Length=\"6\" Encoding=\"DECIMAL\"/>",
                   "<Policy><PINPolicy PINUsageMode=\"" + B64(28) + "\"/></Policy>") +
           Package("P-SER29", kHotp,
                   "<Secret><EncryptedValue><EncryptionMethod Algorithm=\"" + B64(29) +
                       "\"/><CipherValue>AAAA</CipherValue>"
                       "</EncryptedValue></Secret>") +
           Package("", kHotp, "", "", "<ResponseFormat Length=\"6\" Encoding=\"DECIMAL\"/>", "",
                   B64(30)) +                         // Key Id
           Package(Hex(31), kHotp, Plain(B64(31))) +  // same seed
           Package("P-SER32", kHotp, Plain(kOkB64), "",
                   "<ResponseFormat Length=\"" + B64(32) + "\"/>") +
           Package("P-SER33", kHotp, "<Secret><PlainValue>" + Hex(33) + "!</PlainValue></Secret>")),
       {}});
  cases.push_back({"pskc-keyname.xml",
                   Pskc(Package("P-SER34", kHotp,
                                "<Secret><EncryptedValue><EncryptionMethod Algorithm=\""
                                "http://www.w3.org/2001/04/xmlenc#aes128-cbc\"/><CipherValue>"
                                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</CipherValue>"
                                "</EncryptedValue><ValueMAC>AAAA</ValueMAC></Secret>"),
                        "<EncryptionKey><ds:KeyName xmlns:ds=\"http://www.w3.org/2000/09/"
                        "xmldsig#\">" +
                            B64(34) + "</ds:KeyName></EncryptionKey>\n"),
                   {}});
  cases.push_back({"pskc-root.xml",
                   "<?xml version=\"1.0\"?>\n<" + std::string("K") + B32(35) +
                       " xmlns=\"urn:x\"><a>" + B64(35) + "</a></K" + B32(35) + ">\n",
                   {"--format", "pskc"}});
  cases.push_back({"pskc-truncated.xml",
                   Pskc(Package("P-SER36", kHotp, Plain(kOkB64))).substr(0, 400) + B64(36),
                   {"--format", "pskc"}});
  return cases;
}

class ImportSecretsTest : public OtpctlEnv {
 protected:
  void SetUp() override { InitDataDir(); }
};

TEST_F(ImportSecretsTest, NoSeedAppearsInAnyOutput) {
  const std::vector<std::string> needles = Needles();
  for (const Case& c : Corpus()) {
    SCOPED_TRACE(c.name);
    const std::string path = dir_.File(c.name);
    otpd::testing::WriteFile(path, c.file);
    const std::string failures = dir_.File(c.name + ".failures.csv");
    std::vector<std::string> args = {"import", path, "--failures", failures};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    RunResult human = Otpctl(args);
    args.push_back("--dry-run");
    args.push_back("--json");
    RunResult json = Otpctl(args);
    RunResult list = Otpctl({"token", "list"});
    const std::vector<std::pair<std::string, std::string>> seen = {
        {"stdout", human.out},
        {"stderr", human.err},
        {"failures file", otpd::testing::ReadFile(failures)},
        {"--json stdout", json.out},
        {"--json stderr", json.err},
        {"token list", list.out}};
    for (const auto& [where, text] : seen) {
      for (const std::string& needle : needles) {
        if (text.find(needle) == std::string::npos) continue;
        ADD_FAILURE() << "a piece of a seed (" << needle << ") in " << where << ":\n" << text;
        break;
      }
    }
    // Something was said about the file in every case.
    EXPECT_NE(human.exit_code, 0) << human.out;
    EXPECT_FALSE(human.err.empty());
  }
}

}  // namespace
}  // namespace otpd::tools
