// What `otpctl import` does with files it cannot read as a whole (stores nothing, and says so),
// with files full of bad rows (says a bounded amount, in printable text) and with empty files.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/codec.h"
#include "tests/tools/otpctl_env.h"

namespace otpd::tools {
namespace {

using otpd::testing::RunResult;

constexpr char kEntraHeader[] = "upn,serial number,secret key,time interval,manufacturer,model\n";
constexpr char kB32[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

// A base32 seed of its own for row `i` (a seed stored under two serials is refused).
std::string SeedOf(int i) {
  std::string seed = "import-seed-" + std::to_string(10'000'000 + i);
  return base::Base32Encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(seed.data()), seed.size()), false);
}

// `rows` valid Entra rows E<n>; the row at file line `bad_line` (header = line 1) replaced by
// `bad` when bad_line > 0.
std::string EntraFile(int rows, int bad_line = 0, const std::string& bad = "") {
  std::string out = kEntraHeader;
  for (int i = 0; i < rows; ++i) {
    if (i + 2 == bad_line) {
      out += bad + "\n";
      continue;
    }
    out += ",E" + std::to_string(i) + "," + SeedOf(i) + ",30,Acme,K1\n";
  }
  return out;
}

class ImportFileErrorsTest : public OtpctlEnv {
 protected:
  void SetUp() override { InitDataDir(); }

  // Imports `contents` as FILE with `extra` arguments; expects a file error that names the
  // file, says nothing was imported, and left the inventory and the batch list empty.
  void ExpectNothingStored(const std::string& name, const std::string& contents,
                           const std::vector<std::string>& extra, const std::string& reason) {
    SCOPED_TRACE(name);
    const std::string path = dir_.File(name);
    otpd::testing::WriteFile(path, contents);
    std::vector<std::string> args = {"import", path};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Otpctl(args);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was imported"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("imported,"), std::string::npos) << r.out;
    RunResult list = Otpctl({"token", "list", "--json"});
    EXPECT_EQ(list.out, "[]\n") << list.err;
    RunResult batches = Otpctl({"batch", "list", "--json"});
    EXPECT_EQ(batches.out, "[]\n") << batches.err;
  }
};

TEST_F(ImportFileErrorsTest, FileLevelErrorsStoreNothing) {
  // A 50 000-row file with a quote never closed at line 25 002.
  ExpectNothingStored("unclosed.csv",
                      EntraFile(50000, 25002, ",\"E-OPEN," + std::string(kB32) + ",30,Acme,K1"), {},
                      "line 25002: quoted field is not closed");
  // Cut off in the middle of its last row.
  std::string whole = EntraFile(100);
  ExpectNothingStored("truncated.csv", whole.substr(0, whole.size() - 12), {},
                      "ends in the middle of line 101");
  // Broken XML after good KeyPackages.
  std::string pskc = otpd::testing::ReadFile("fixtures/tokenio/pskc_plain.xml");
  ExpectNothingStored("truncated.pskc", pskc.substr(0, pskc.size() * 3 / 4), {},
                      "not well-formed XML");
  // The wrong pre-shared key: every MAC check fails.
  otpd::testing::WriteFile(dir_.File("wrong.hex"), std::string(32, 'a') + "\n");
  chmod(dir_.File("wrong.hex").c_str(), 0600);
  ExpectNothingStored("wrong-key.pskc",
                      otpd::testing::ReadFile("fixtures/tokenio/pskc_psk_aes128.xml"),
                      {"--psk-file", dir_.File("wrong.hex")}, "wrong password or pre-shared key");
  // A binary file read as CSV.
  ExpectNothingStored("binary.csv", std::string("serial,seed,type\nA,3132\0\x01\x02,hotp\n", 32),
                      {"--format", "oath-csv"}, "not a text file");
}

TEST_F(ImportFileErrorsTest, RowErrorsKeepTheGoodRows) {
  const std::string path = dir_.File("rows.csv");
  otpd::testing::WriteFile(path, EntraFile(10, 5, ",E-BAD,NOT!BASE32,30,Acme,K1"));
  RunResult r = Otpctl({"import", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("9 imported, 0 updated, 0 unchanged, 1 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("line 5"), std::string::npos) << r.err;
}

TEST_F(ImportFileErrorsTest, EmptyFilesAreErrorsWhateverTheFormat) {
  otpd::testing::WriteFile(dir_.File("empty.csv"), "");
  otpd::testing::WriteFile(dir_.File("blank.csv"), "\n  \n");
  for (const char* file : {"empty.csv", "blank.csv"}) {
    for (const std::vector<std::string>& format : {std::vector<std::string>{},
                                                   {"--format", "oath-csv"},
                                                   {"--format", "entra-csv"},
                                                   {"--format", "pskc"}}) {
      std::vector<std::string> args = {"import", dir_.File(file)};
      args.insert(args.end(), format.begin(), format.end());
      RunResult r = Otpctl(args);
      EXPECT_EQ(r.exit_code, 1) << file << " " << (format.empty() ? "" : format[1]) << r.out;
      EXPECT_NE(r.err.find("is empty"), std::string::npos) << r.err;
      EXPECT_EQ(r.out.find("already stored"), std::string::npos) << r.out;
    }
  }
  // Comments and a header but no token line: nothing to import is an error too.
  otpd::testing::WriteFile(dir_.File("header.csv"), "# tokens\nserial,seed,type\n");
  RunResult r = Otpctl({"import", dir_.File("header.csv"), "--format", "oath-csv"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("holds no tokens"), std::string::npos) << r.err;
}

// Every line is short and printable ASCII (no raw bytes from the file reach the terminal).
void ExpectPrintableLines(const std::string& text, size_t max_line) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    EXPECT_LE(line.size(), max_line) << line;
    for (char c : line) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << static_cast<int>(c) << " in " << line;
    }
    start = end + 1;
  }
}

TEST_F(ImportFileErrorsTest, ABinaryFileIsOneShortMessage) {
  RunResult r = Otpctl({"import", "/bin/ls", "--format", "oath-csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 22) << r.err;
  ExpectPrintableLines(r.err, 300);
  ExpectPrintableLines(r.out, 300);
}

TEST_F(ImportFileErrorsTest, ManyRejectedRowsPrintTwentyAndPointToTheRest) {
  std::string csv = "serial,seed,type\n";
  for (int i = 0; i < 100; ++i) {
    // Printable but long serials (cut at 40 characters), each row with a wrong type.
    csv += "S-" + std::string(50, 'x') + "-" + std::to_string(i) +
           ",3132333435363738393031323334353637383930,motp\n";
  }
  otpd::testing::WriteFile(dir_.File("bad.csv"), csv);
  RunResult r = Otpctl({"import", dir_.File("bad.csv"), "--format", "oath-csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 21) << r.err;
  EXPECT_NE(r.err.find("80 more rejected rows; --failures FILE writes them all"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find(std::string(41, 'x')), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("S-" + std::string(38, 'x') + "..."), std::string::npos) << r.err;
  ExpectPrintableLines(r.err, 300);

  RunResult with_file = Otpctl(
      {"import", dir_.File("bad.csv"), "--format", "oath-csv", "--failures", dir_.File("f.csv")});
  EXPECT_NE(with_file.err.find("80 more rejected rows in " + dir_.File("f.csv")), std::string::npos)
      << with_file.err;
  std::string failures = otpd::testing::ReadFile(dir_.File("f.csv"));
  EXPECT_EQ(std::count(failures.begin(), failures.end(), '\n'), 101);
  // The file has the whole serials.
  EXPECT_NE(failures.find("\n2,S-" + std::string(50, 'x') + "-0,type must be hotp or totp\n"),
            std::string::npos)
      << failures;
}

TEST_F(ImportFileErrorsTest, FileNamesAreEscapedInMessages) {
  const std::string path = dir_.File("bad\x01name.csv");
  otpd::testing::WriteFile(path, EntraFile(2, 2, ",E-BAD,NOT!BASE32,30,Acme,K1"));
  RunResult r = Otpctl({"import", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad\\x01name.csv"), std::string::npos) << r.err;
  ExpectPrintableLines(r.err, 300);
  ExpectPrintableLines(r.out, 300);
}

}  // namespace
}  // namespace otpd::tools
