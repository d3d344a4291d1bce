// otpctl backup and restore: a backup carries a manifest saying where its master key must come
// from; reading a backup (with the right key, a wrong one or none) never writes into it; restore
// checks the manifest and the key before it writes anything, and what it restores works.

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "base/clock.h"
#include "base/codec.h"
#include "engine/credential.h"
#include "tests/tools/otpctl_env.h"

namespace otpd::tools {
namespace {

using otpd::testing::RunResult;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::string AliceCode(int64_t offset_seconds = 0) {
  auto seed = base::Base32Decode("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
  auto cred = engine::Credential::Create(engine::OtpParams{}, seed->span());
  return cred->TotpAt(base::RealClock::Get()->NowUnixSeconds() + offset_seconds);
}

class BackupTest : public OtpctlEnv {
 protected:
  void SetUp() override {
    InitDataDir();
    RunResult imported = Otpctl({"import", "fixtures/demo/tokens.csv"});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    RunResult backup = Otpctl({"backup", Backup()});
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
    EXPECT_NE(backup.out.find("3 tokens"), std::string::npos) << backup.out;
    EXPECT_NE(backup.out.find(KeyFile()), std::string::npos) << backup.out;
  }
  std::string Backup() const { return dir_.File("backups/otpd-1"); }
};

TEST_F(BackupTest, TheManifestSaysWhereTheKeyMustComeFrom) {
  std::string manifest = otpd::testing::ReadFile(Backup() + "/otpd-backup.json");
  EXPECT_NE(manifest.find("\"schema_version\":1"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"data_key_versions\":[1]"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"key_file\":\"" + KeyFile() + "\""), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"key_id\":\""), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"tokens\":3"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"created\":\"20"), std::string::npos) << manifest;
  // Never the key itself.
  std::string key = otpd::testing::ReadFile(KeyFile());
  EXPECT_EQ(manifest.find(base::HexEncode(
                std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size()))),
            std::string::npos);
  EXPECT_FALSE(Exists(Backup() + ".incomplete"));
  // A backup never overwrites.
  RunResult again = Otpctl({"backup", Backup()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("never overwrites"), std::string::npos) << again.err;
  // --json carries the manifest.
  RunResult json = Otpctl({"backup", dir_.File("backups/otpd-2"), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out.rfind("{\"backup\":", 0), 0u) << json.out;
  EXPECT_NE(json.out.find("\"manifest\":{"), std::string::npos) << json.out;
}

TEST_F(BackupTest, ReadingABackupNeverWritesIntoIt) {
  const auto before = Snapshot(Backup());
  // The right key reads it.
  RunResult right = Raw({"token", "list", "--data-dir", Backup(), "--key-file", KeyFile()});
  EXPECT_EQ(right.exit_code, 0) << right.err;
  EXPECT_NE(right.out.find("DEMO0001"), std::string::npos) << right.out;
  // A wrong key, a missing one, none at all: refused, with nothing written.
  otpd::testing::WriteFile(dir_.File("wrong.key"), std::string(64, 'a'));
  chmod(dir_.File("wrong.key").c_str(), 0600);
  RunResult wrong =
      Raw({"token", "list", "--data-dir", Backup(), "--key-file", dir_.File("wrong.key")});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("master key does not match"), std::string::npos) << wrong.err;
  RunResult missing =
      Raw({"token", "list", "--data-dir", Backup(), "--key-file", dir_.File("missing.key")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_FALSE(Exists(dir_.File("missing.key")));
  RunResult none = Raw({"token", "list", "--data-dir", Backup()});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(Raw({"batch", "list", "--data-dir", Backup(), "--key-file", KeyFile()}).exit_code, 0);
  // Restoring from it reads it too.
  EXPECT_EQ(Raw({"restore", Backup(), "--data-dir", dir_.File("restored"), "--key-file",
                 dir_.File("wrong.key")})
                .exit_code,
            1);
  EXPECT_EQ(Raw({"restore", Backup(), "--data-dir", dir_.File("restored"), "--key-file", KeyFile()})
                .exit_code,
            0);
  EXPECT_EQ(Snapshot(Backup()), before);
  EXPECT_FALSE(Exists(Backup() + "/master.key"));
}

TEST_F(BackupTest, RestoreChecksTheManifestAndTheKeyBeforeWriting) {
  const std::string target = dir_.File("new-machine/data");
  otpd::testing::WriteFile(dir_.File("wrong.key"), std::string(64, 'a'));
  chmod(dir_.File("wrong.key").c_str(), 0600);
  RunResult wrong =
      Raw({"restore", Backup(), "--data-dir", target, "--key-file", dir_.File("wrong.key")});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("master key does not match"), std::string::npos) << wrong.err;
  // It says which key the backup needs.
  EXPECT_NE(wrong.err.find(KeyFile()), std::string::npos) << wrong.err;
  EXPECT_FALSE(Exists(target));
  EXPECT_FALSE(Exists(target + ".incomplete"));

  RunResult no_key = Raw({"restore", Backup(), "--data-dir", target});
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_FALSE(Exists(target));

  // Not a backup (a bare data directory has no manifest).
  RunResult not_backup = Raw({"restore", DataDir(), "--data-dir", target, "--key-file", KeyFile()});
  EXPECT_EQ(not_backup.exit_code, 1);
  EXPECT_NE(not_backup.err.find("otpd-backup.json"), std::string::npos) << not_backup.err;
  EXPECT_FALSE(Exists(target));

  // Never over an existing data directory.
  RunResult over = Raw({"restore", Backup(), "--data-dir", DataDir(), "--key-file", KeyFile()});
  EXPECT_EQ(over.exit_code, 1);
  EXPECT_NE(over.err.find("not an empty directory"), std::string::npos) << over.err;

  // A damaged manifest is refused.
  const std::string copy = dir_.File("copy");
  std::filesystem::copy(Backup(), copy);
  otpd::testing::WriteFile(copy + "/otpd-backup.json", "{\"format\":\"otpd-backup\"");
  RunResult damaged = Raw({"restore", copy, "--data-dir", target, "--key-file", KeyFile()});
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_NE(damaged.err.find("damaged"), std::string::npos) << damaged.err;
  EXPECT_FALSE(Exists(target));
}

TEST_F(BackupTest, ARestoredBackupWorksOnAFreshMachine) {
  // After the backup: DEMO0001 is activated in the live directory only.
  ASSERT_EQ(Otpctl({"token", "activate", "DEMO0001", AliceCode()}).exit_code, 0);
  // The fresh machine has only the backup and a copy of the master key; the data directory's
  // parent does not exist yet either.
  const std::string key = dir_.File("new-machine/master.key");
  std::filesystem::create_directories(dir_.File("new-machine"));
  std::filesystem::copy_file(KeyFile(), key);
  const std::string target = dir_.File("new-machine/var/lib/otpd");
  RunResult restored = Raw({"restore", Backup(), "--data-dir", target, "--key-file", key});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_NE(restored.out.find("3 tokens"), std::string::npos) << restored.out;
  EXPECT_FALSE(Exists(target + "/otpd-backup.json"));
  EXPECT_FALSE(Exists(target + ".incomplete"));
  RunResult list = Raw({"token", "list", "--data-dir", target, "--key-file", key});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("DEMO0001\tassigned"), std::string::npos) << list.out;
  // The seeds open: activation computes with them, and it is written to the restored copy.
  RunResult activate = Raw(
      {"token", "activate", "DEMO0001", AliceCode(30), "--data-dir", target, "--key-file", key});
  EXPECT_EQ(activate.exit_code, 0) << activate.err;
}

}  // namespace
}  // namespace otpd::tools
