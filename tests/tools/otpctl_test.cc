// otpctl end to end: the real binary against a real data directory in a temp dir.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/codec.h"
#include "engine/credential.h"
#include "storage/rocksdb/rocksdb_store.h"
#include "tests/tools/otpctl_env.h"

namespace otpd::tools {
namespace {

using otpd::testing::RunResult;

constexpr char kAliceSeed[] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

class OtpctlTest : public OtpctlEnv {
 protected:
  void SetUp() override { InitDataDir(); }

  std::string AliceCode(int64_t offset_seconds = 0) {
    auto seed = base::Base32Decode(kAliceSeed);
    auto cred = engine::Credential::Create(engine::OtpParams{}, seed->span());
    return cred->TotpAt(base::RealClock::Get()->NowUnixSeconds() + offset_seconds);
  }
};

// Paths under `dir` that group or others may read, write or search.
std::vector<std::string> NotPrivate(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    struct stat st;
    if (lstat(e.path().c_str(), &st) == 0 && !S_ISLNK(st.st_mode) && (st.st_mode & 077) != 0) {
      out.push_back(e.path().string());
    }
  }
  return out;
}

TEST_F(OtpctlTest, WhatItWritesIsPrivateWhateverTheUmask) {
  const mode_t before = umask(022);  // otpctl inherits it
  ASSERT_EQ(Otpctl({"import", "fixtures/demo/tokens.csv"}).exit_code, 0);
  const RunResult backup = Otpctl({"backup", dir_.File("backup")});
  umask(before);
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_EQ(NotPrivate(DataDir()), std::vector<std::string>());
  EXPECT_EQ(NotPrivate(dir_.File("backup")), std::vector<std::string>());
}

TEST_F(OtpctlTest, ImportIsIdempotent) {
  RunResult first = Otpctl({"import", "fixtures/demo/tokens.csv"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("3 imported, 0 updated, 0 unchanged, 0 failed"), std::string::npos)
      << first.out;
  RunResult again = Otpctl({"import", "fixtures/demo/tokens.csv"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("0 imported, 0 updated, 3 unchanged"), std::string::npos);
  EXPECT_NE(again.out.find("nothing changed"), std::string::npos);
  RunResult batches = Otpctl({"batch", "list"});
  EXPECT_EQ(batches.exit_code, 0);
  // A header and one batch: the import that stored nothing recorded none.
  EXPECT_EQ(std::count(batches.out.begin(), batches.out.end(), '\n'), 2) << batches.out;
}

TEST_F(OtpctlTest, BrokenRowsAreReportedAndNothingElseIsLost) {
  const std::string csv =
      "upn,serial number,secret key,time interval,manufacturer,model\n"
      "a@example.com,GOOD1,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Acme,K1\n"
      "b@example.com,BAD1,JBSWY3DP!HPK3PXPJBSWY3DPEHPK3PXP,30,Acme,K1\n"
      "c@example.com,BAD2,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,45,Acme,K1\n"
      "c@example.com,GOOD2,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,60,Acme,K1\n";
  otpd::testing::WriteFile(dir_.File("batch.csv"), csv);
  RunResult r = Otpctl({"import", dir_.File("batch.csv"), "--failures", dir_.File("fail.csv")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("2 imported, 0 updated, 0 unchanged, 2 failed"), std::string::npos) << r.out;
  std::string failures = otpd::testing::ReadFile(dir_.File("fail.csv"));
  // BAD1's seed could not be read, so its columns may be shifted: its serial is not repeated.
  EXPECT_NE(failures.find("3,,secret key is not valid base32"), std::string::npos) << failures;
  EXPECT_NE(failures.find("4,BAD2,"), std::string::npos) << failures;
  // No seed anywhere in what the administrator sees.
  for (const std::string& text : {r.out, r.err, failures}) {
    EXPECT_EQ(text.find("JBSWY3DP"), std::string::npos);
    EXPECT_EQ(text.find("GEZDGNBV"), std::string::npos);
  }
  RunResult list = Otpctl({"token", "list"});
  EXPECT_NE(list.out.find("GOOD1"), std::string::npos);
  EXPECT_NE(list.out.find("GOOD2"), std::string::npos);
  EXPECT_EQ(list.out.find("BAD"), std::string::npos);
}

TEST_F(OtpctlTest, DryRunWritesNothing) {
  RunResult r = Otpctl({"import", "--dry-run", "fixtures/demo/tokens.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dry run"), std::string::npos);
  RunResult list = Otpctl({"token", "list", "--json"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_EQ(list.out, "[]\n");
}

TEST_F(OtpctlTest, TokenLifecycleAndExitCodes) {
  ASSERT_EQ(Otpctl({"import", "fixtures/demo/tokens.csv"}).exit_code, 0);
  const std::string right = AliceCode();
  const std::string wrong = right == "000000" ? "000001" : "000000";
  RunResult bad = Otpctl({"token", "activate", "DEMO0001", wrong});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("the code is not right for token DEMO0001"), std::string::npos);
  EXPECT_NE(Otpctl({"token", "show", "DEMO0001"}).out.find("failedActivation"), std::string::npos);
  RunResult good = Otpctl({"token", "activate", "DEMO0001", right});
  ASSERT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(Otpctl({"token", "list", "--status", "activated"}).out.find("DEMO0001"),
            std::string::npos);
  RunResult del = Otpctl({"token", "delete", "DEMO0001"});
  EXPECT_EQ(del.exit_code, 1);
  EXPECT_NE(del.err.find("unassign it first"), std::string::npos);
  EXPECT_EQ(Otpctl({"token", "deactivate", "DEMO0001"}).exit_code, 0);
  EXPECT_EQ(Otpctl({"token", "unassign", "DEMO0001"}).exit_code, 0);
  EXPECT_EQ(Otpctl({"token", "delete", "DEMO0001"}).exit_code, 0);
  EXPECT_EQ(Otpctl({"token", "show", "DEMO0001"}).exit_code, 1);
  ASSERT_EQ(Otpctl({"user", "add", "zoe@example.com"}).exit_code, 0);
  EXPECT_EQ(Otpctl({"token", "assign", "DEMO0003", "zoe@example.com"}).exit_code, 0);
  EXPECT_NE(Otpctl({"token", "list", "--user", "zoe@example.com"}).out.find("DEMO0003"),
            std::string::npos);
  // Usage errors exit 2.
  EXPECT_EQ(Otpctl({"token", "frobnicate"}).exit_code, 2);
  EXPECT_EQ(Otpctl({"token", "list", "--status", "gone"}).exit_code, 1);
}

TEST_F(OtpctlTest, RefusesADataDirInUse) {
  storage::RocksDbOptions options;
  options.path = DataDir();
  auto held = storage::RocksDbStore::Open(options);
  ASSERT_TRUE(held.ok()) << held.status();
  RunResult r = Otpctl({"import", "fixtures/demo/tokens.csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
}

TEST_F(OtpctlTest, WrongMasterKeyIsAClearError) {
  ASSERT_EQ(Otpctl({"import", "fixtures/demo/tokens.csv"}).exit_code, 0);
  otpd::testing::WriteFile(dir_.File("other.key"), std::string(64, 'a'));
  chmod(dir_.File("other.key").c_str(), 0600);
  RunResult r =
      Raw({"token", "list", "--data-dir", DataDir(), "--key-file", dir_.File("other.key")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("master key does not match"), std::string::npos) << r.err;
}

TEST_F(OtpctlTest, KeyRotation) {
  ASSERT_EQ(Otpctl({"import", "fixtures/demo/tokens.csv"}).exit_code, 0);
  RunResult data = Otpctl({"key", "rotate-data"});
  ASSERT_EQ(data.exit_code, 0) << data.err;
  EXPECT_NE(data.out.find("data key 2 is current"), std::string::npos) << data.out;
  EXPECT_NE(data.out.find("re-sealed 3 of 3"), std::string::npos) << data.out;
  EXPECT_NE(Otpctl({"key", "reseal"}).out.find("re-sealed 0 of 3"), std::string::npos);

  RunResult master = Otpctl({"key", "rotate-master", "--new-key-file", dir_.File("new.key")});
  ASSERT_EQ(master.exit_code, 0) << master.err;
  // The old key no longer opens the directory; the new one does, and the seeds still open
  // (activation computes with the re-sealed seed).
  RunResult old_key = Otpctl({"token", "list"});
  EXPECT_EQ(old_key.exit_code, 1);
  EXPECT_NE(old_key.err.find("master key does not match"), std::string::npos) << old_key.err;
  RunResult activate = Raw({"token", "activate", "DEMO0001", AliceCode(), "--data-dir", DataDir(),
                            "--key-file", dir_.File("new.key")});
  EXPECT_EQ(activate.exit_code, 0) << activate.err;
}

TEST_F(OtpctlTest, EncryptedPskcImport) {
  // The fixture gives two of its keys the RFC 4226 seed: refused unless allowed.
  RunResult dup = Otpctl({"import", "fixtures/tokenio/pskc_psk_aes128.xml", "--psk-file",
                          PrivateCopy("fixtures/tokenio/psk_aes128.hex"), "--dry-run"});
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.err.find("the same seed is already stored under serial PSK0001"), std::string::npos)
      << dup.err;
  RunResult psk =
      Otpctl({"import", "fixtures/tokenio/pskc_psk_aes128.xml", "--psk-file",
              PrivateCopy("fixtures/tokenio/psk_aes128.hex"), "--allow-duplicate-seeds"});
  ASSERT_EQ(psk.exit_code, 0) << psk.err;
  EXPECT_NE(psk.out.find("3 imported"), std::string::npos) << psk.out;

  // A wrong password is one clear error for the file, and nothing is stored.
  otpd::testing::WritePrivateFile(dir_.File("wrong.txt"), "not the password\n");
  RunResult wrong = Otpctl(
      {"import", "fixtures/tokenio/pskc_password.xml", "--password-file", dir_.File("wrong.txt")});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("wrong password"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("not the password"), std::string::npos);
  RunResult right = Otpctl({"import", "fixtures/tokenio/pskc_password.xml", "--password-file",
                            PrivateCopy("fixtures/tokenio/password.txt"), "--dry-run",
                            "--allow-duplicate-seeds"});
  EXPECT_EQ(right.exit_code, 0) << right.err;

  // A tampered value is rejected alone, with the reason.
  RunResult tampered = Otpctl({"import", "fixtures/tokenio/pskc_tampered.xml", "--psk-file",
                               PrivateCopy("fixtures/tokenio/psk_aes128.hex")});
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_NE(tampered.err.find("MAC mismatch"), std::string::npos) << tampered.err;
}

TEST_F(OtpctlTest, ExportAndReimportRoundTrip) {
  ASSERT_EQ(Otpctl({"import", "fixtures/demo/tokens.csv"}).exit_code, 0);
  ASSERT_EQ(Otpctl({"token", "activate", "DEMO0001", AliceCode()}).exit_code, 0);
  RunResult exported = Otpctl({"export", dir_.File("out.pskc"), "--psk-file",
                               PrivateCopy("fixtures/tokenio/psk_aes128.hex")});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("exported 3 tokens"), std::string::npos);
  std::string file = otpd::testing::ReadFile(dir_.File("out.pskc"));
  EXPECT_EQ(file.find("JBSWY3DP"), std::string::npos);  // no seed in clear
  EXPECT_NE(file.find("EncryptedValue"), std::string::npos);
  EXPECT_EQ(Otpctl({"export", dir_.File("out.pskc"), "--psk-file",
                    PrivateCopy("fixtures/tokenio/psk_aes128.hex")})
                .exit_code,
            1);  // never overwrites

  const std::vector<std::string> other = {"--data-dir", dir_.File("other"), "--key-file",
                                          dir_.File("other.key")};
  std::vector<std::string> init = {"init"};
  init.insert(init.end(), other.begin(), other.end());
  ASSERT_EQ(Raw(init).exit_code, 0);
  std::vector<std::string> import = {"import", dir_.File("out.pskc"), "--psk-file",
                                     PrivateCopy("fixtures/tokenio/psk_aes128.hex")};
  import.insert(import.end(), other.begin(), other.end());
  RunResult reimported = Raw(import);
  ASSERT_EQ(reimported.exit_code, 0) << reimported.err;
  EXPECT_NE(reimported.out.find("3 imported"), std::string::npos);
  // The seed came across: the other side activates with the code alice's token shows next.
  std::vector<std::string> activate = {"token", "activate", "DEMO0001", AliceCode(30)};
  activate.insert(activate.end(), other.begin(), other.end());
  RunResult activated = Raw(activate);
  EXPECT_EQ(activated.exit_code, 0) << activated.err;
}

}  // namespace
}  // namespace otpd::tools
